using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Tests.Limits;

namespace OrleansVncCluster.Tests.Admission;

/// <summary>The pipeline runs each check once, in order; the first refusal ends it and gives back what was taken.</summary>
public sealed class AdmissionPipelineTests
{
    private static readonly Refusal Full = new(CloseReasons.TooMany, CloseReasons.NodeFullText, "node_full");

    [Fact]
    public async Task EveryCheckAdmits_RunsEachOnceInOrder_AndTheResultHoldsUntilDisposed()
    {
        var log = new List<string>();
        var pipeline = Pipeline(log, new Step("a", log), new Step("b", log, takes: "lease-b"), new Step("c", log));

        var result = await pipeline.AdmitAsync(Request(), TestContext.Current.CancellationToken);

        Assert.Null(result.Refused);
        Assert.Equal(["a", "b", "c"], log);
        await result.DisposeAsync();
        await result.DisposeAsync();
        Assert.Equal(["a", "b", "c", "release lease-b"], log);
    }

    [Fact]
    public async Task FirstRefusal_StopsThePipeline_CountsItsReason_AndGivesBackWhatEarlierChecksTook()
    {
        var log = new List<string>();
        var metrics = NewMetrics();
        using var failures = new MetricCollector<long>(metrics.Meter, "vnc_relay_sessions_failed");
        var pipeline = Pipeline(log, metrics, new Step("a", log, takes: "lease-a"), new Step("b", log, refuses: Full), new Step("c", log));

        var result = await pipeline.AdmitAsync(Request(), TestContext.Current.CancellationToken);

        Assert.Equal(Full, result.Refused);
        Assert.Null(result.Entry);
        Assert.Equal(["a", "b", "release lease-a"], log);
        Assert.Equal("node_full", Assert.Single(failures.GetMeasurementSnapshot()).Tags["reason"]);
    }

    [Fact]
    public async Task CheckThatWatchesRefusals_HearsTheRefusalOfALaterCheck()
    {
        var log = new List<string>();
        var pipeline = Pipeline(log, new Step("rate", log, watches: true), new Step("token", log, refuses: Full));

        await pipeline.AdmitAsync(Request(), TestContext.Current.CancellationToken);

        Assert.Contains("rate heard node_full", log);
    }

    [Fact]
    public async Task RehearsalSession_SkipsTheChecksThatDoNotApplyToIt_AndAClientsSessionRunsThemAll()
    {
        var log = new List<string>();
        var pipeline = Pipeline(log, new Step("rate", log, rehearses: false), new Step("token", log), new Step("target", log, rehearses: false), new Step("leases", log));

        await pipeline.AdmitAsync(new AdmissionContext("127.0.0.1", "rehearsal-1", "", "relay.example") { Rehearsal = true }, TestContext.Current.CancellationToken);
        Assert.Equal(["token", "leases"], log);

        log.Clear();
        await pipeline.AdmitAsync(Request(), TestContext.Current.CancellationToken);
        Assert.Equal(["rate", "token", "target", "leases"], log);
    }

    [Fact]
    public async Task UpgradeRefusal_IsCountedAndLeavesTheSessionChecksUnrun()
    {
        var log = new List<string>();
        var metrics = NewMetrics();
        using var failures = new MetricCollector<long>(metrics.Meter, "vnc_relay_sessions_failed");
        var origin = new Refusal(CloseReasons.Forbidden, "Origin x may not open consoles here", "origin_refused");
        var pipeline = new AdmissionPipeline([new Step("origin", log, refuses: origin)], [new Step("a", log)],
            new FixedOptions<LimitsOptions>(new LimitsOptions()), metrics, NullLogger<AdmissionPipeline>.Instance);

        Assert.Equal(origin, await pipeline.CheckUpgradeAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(["origin"], log);
        Assert.Equal("origin_refused", Assert.Single(failures.GetMeasurementSnapshot()).Tags["reason"]);
    }

    private static AdmissionPipeline Pipeline(List<string> log, params IAdmissionCheck[] checks) => Pipeline(log, NewMetrics(), checks);

    private static RelayMetrics NewMetrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());

    private static AdmissionPipeline Pipeline(List<string> log, RelayMetrics metrics, params IAdmissionCheck[] checks) =>
        new([], checks, new FixedOptions<LimitsOptions>(new LimitsOptions()), metrics, NullLogger<AdmissionPipeline>.Instance);

    private static AdmissionContext Request() => new("192.0.2.7", "token-0001", "", "relay.example");

    private sealed class Step(string name, List<string> log, Refusal? refuses = null, string? takes = null, bool watches = false, bool rehearses = true) : IAdmissionCheck
    {
        public bool AppliesToRehearsal => rehearses;

        public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
        {
            log.Add(name);
            if (takes is not null)
            {
                context.Hold(() => log.Add("release " + takes));
            }

            if (watches)
            {
                context.WhenRefused(refusal => log.Add($"{name} heard {refusal.Metric}"));
            }

            return ValueTask.FromResult(refuses);
        }
    }
}
