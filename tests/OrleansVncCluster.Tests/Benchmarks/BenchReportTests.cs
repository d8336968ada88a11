using OrleansVncCluster.Benchmarks;
using OrleansVncCluster.Benchmarks.Reporting;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>The bench's verdicts on issue 13 item 8 (relay-side login) and which runs may replace docs' results.</summary>
public sealed class BenchReportTests
{
    private const string LoginThroughput = "Relay-side login: echo and download throughput";
    private const string LoginP99 = "Relay-side login: set-up p99";
    private const string LoginP50 = "Relay-side login adds at most 1 ms";

    [Fact]
    public void LoginWithinMargins_Passes()
    {
        var results = Results();
        results.Throughput.AddRange([Rate("relay (rfb)", "download", 1000), Rate("relay (login)", "download", 960)]);
        results.Setup.AddRange([Setup("relay (rfb)", p50: 3.0, p99: 10.0), Setup("relay (login)", p50: 3.9, p99: 10.4)]);

        var verdicts = TargetEvaluation.Evaluate(results).ToList();

        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, LoginThroughput).Verdict);
        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, LoginP99).Verdict);
        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, LoginP50).Verdict);
    }

    [Fact]
    public void LoginThroughputSixPercentBelow_Fails()
    {
        var results = Results();
        results.Throughput.AddRange([Rate("relay (rfb)", "echo", 1000), Rate("relay (login)", "echo", 940)]);

        var verdict = Verdict(TargetEvaluation.Evaluate(results).ToList(), LoginThroughput);

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("0.94x", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void LoginAddingMoreThanOneMillisecondAtP50_FailsThatTargetOnly()
    {
        var results = Results();
        results.Setup.AddRange([Setup("relay (rfb)", p50: 3.0, p99: 10.0), Setup("relay (login)", p50: 4.2, p99: 10.0)]);

        var verdicts = TargetEvaluation.Evaluate(results).ToList();

        Assert.Equal(TargetEvaluation.Fail, Verdict(verdicts, LoginP50).Verdict);
        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, LoginP99).Verdict);
    }

    [Fact]
    public void LoginSessionsThatFailed_FailTheSetupTargets()
    {
        var results = Results();
        results.Setup.AddRange([Setup("relay (rfb)", p50: 3.0, p99: 10.0), Setup("relay (login)", p50: 3.0, p99: 10.0, failed: 5)]);

        var verdicts = TargetEvaluation.Evaluate(results).ToList();

        Assert.Equal(TargetEvaluation.Fail, Verdict(verdicts, LoginP99).Verdict);
        Assert.Equal(TargetEvaluation.Fail, Verdict(verdicts, LoginP50).Verdict);
    }

    [Fact]
    public void NoLoginPeer_LeavesTheTargetsNotMeasured()
    {
        var verdicts = TargetEvaluation.Evaluate(Results()).ToList();

        Assert.Equal(TargetEvaluation.NotMeasured, Verdict(verdicts, LoginThroughput).Verdict);
        Assert.Equal(TargetEvaluation.NotMeasured, Verdict(verdicts, LoginP99).Verdict);
    }

    [Fact]
    public void Report_NamesTheCommitAndTheSeed_AndMarksASubset()
    {
        var markdown = MarkdownReport.Render(Results());

        Assert.Contains("Commit: 0123abc", markdown, StringComparison.Ordinal);
        Assert.Contains("seed 7", markdown, StringComparison.Ordinal);
        Assert.Contains("never to docs/benchmarks.md", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run --relay r", true)]
    [InlineData("run --relay r --quick", false)]
    [InlineData("run --relay r --peers relay,socat", false)]
    [InlineData("run --relay r --workloads setup", false)]
    [InlineData("run --relay r --throughput-seconds 20", false)]
    [InlineData("run --relay r --seed 5", true)]
    public void OnlyAFullRun_MayReplaceTheDocumentsResults(string arguments, bool full)
    {
        Assert.Equal(full, BenchOptions.Parse(arguments.Split(' ')).IsFullRun);
    }

    private static TargetVerdict Verdict(List<TargetVerdict> verdicts, string prefix) => verdicts.Single(v => v.Target.StartsWith(prefix, StringComparison.Ordinal));

    private static ThroughputResult Rate(string peer, string mode, double mibPerSecond) =>
        new(peer, mode, 1, 3, (long)(mibPerSecond * 3 * 1024 * 1024), mibPerSecond, 100, 0, null);

    private static LatencyResult Setup(string peer, double p50, double p99, int failed = 0) =>
        new(peer, "setup", 1000, 16, 1000 - failed, failed, p50, p99 * 0.8, p99, p99 * 1.2, p50, 2000, failed > 0 ? "refused" : null) { RoundP99Ms = [p99] };

    private static BenchResults Results() => new()
    {
        Machine = new MachineInfo(2, "cpu", 1024, "6", ".NET", "-", "-", "-", "test"),
        StartedUtc = DateTimeOffset.UnixEpoch,
        Settings = new BenchSettings
        {
            Quick = false,
            Rounds = 3,
            ThroughputSeconds = 3,
            WarmupSeconds = 0.5,
            FrameBytes = 65536,
            EchoWindowFrames = 4,
            ThroughputConnections = [1, 16],
            SetupSessions = 1000,
            SetupConcurrency = 16,
            SetupWarmupSessions = 100,
            IdleTiers = [1000],
            TokenFileTokens = 10_000,
            SyncVms = [10_000],
            Peers = ["relay", "relay-login"],
            DescriptorLimit = 20_000,
            Seed = 7,
            Commit = "0123abc",
            FullRun = false,
            CommandLine = "vnc-bench run",
        },
    };
}
