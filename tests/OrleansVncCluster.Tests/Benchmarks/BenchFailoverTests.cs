using System.Diagnostics;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Workloads;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>The pure parts of the failover and silent-host workloads (issue 17): what they read and how they judge it.</summary>
public sealed class BenchFailoverTests
{
    private const string FailoverFirst = "kill -9 of a node: a new session opens";
    private const string FailoverEvery = "kill -9 of a node: every new session";
    private const string ConsoleRow = "kill -9 of the node under a console page";
    private const string SilentRow = "A silent host";

    private static readonly long Second = Stopwatch.Frequency;

    [Theory]
    [InlineData(0.5, 3.0)]
    [InlineData(0.9, 5.0)]
    [InlineData(1.0, 5.0)]
    [InlineData(0.0, 1.0)]
    public void Percentile_IsAMeasuredValue_ByNearestRank(double p, double expected)
    {
        Assert.Equal(expected, Percentile.Of([5, 1, 4, 2, 3], p));
    }

    [Fact]
    public void Percentile_OfNothing_IsZero()
    {
        Assert.Equal(0, Percentile.Of([], 0.5));
    }

    [Fact]
    public void FirstOpenedAfterAKill_IgnoresSessionsStartedBeforeIt_AndTakesTheEarliestBanner()
    {
        const long kill = 1000;
        TrickleSession[] sessions =
        [
            new(kill - 10, kill + Second / 100, null), // started before the kill: not a new session
            new(kill + Second / 10, kill + Second, null),
            new(kill + Second / 5, kill + Second / 2, null), // started later, opened earlier
            new(kill, kill + Second / 20, "503"),
        ];

        Assert.Equal(TimeSpan.FromSeconds(0.5), SessionTrickle.FirstOpenedAfter(sessions, kill));
    }

    [Fact]
    public void EveryNewSessionOpens_OnlyFromTheFirstOneStartedAfterTheLastFailure()
    {
        const long kill = 1000;
        TrickleSession[] sessions =
        [
            new(kill + Second / 10, kill + Second / 5, null), // redispatched: opened early
            new(kill + Second, kill + Second + Second / 10, "503"),
            new(kill + 2 * Second, kill + 2 * Second + Second / 10, null),
        ];

        Assert.Equal(TimeSpan.FromSeconds(0.2), SessionTrickle.FirstOpenedAfter(sessions, kill));
        Assert.Equal(TimeSpan.FromSeconds(2.1), SessionTrickle.AllOpenAgainAfter(sessions, kill));
    }

    [Fact]
    public void NoSessionOpenedAfterTheKill_IsNull()
    {
        TrickleSession[] sessions = [new(2000, 3000, "503")];

        Assert.Null(SessionTrickle.FirstOpenedAfter(sessions, 1000));
        Assert.Null(SessionTrickle.AllOpenAgainAfter(sessions, 1000));
    }

    [Fact]
    public void HaproxyStats_GiveTheStatusOfTheNamedServerOfTheBackend()
    {
        const string csv = """
            # pxname,svname,qcur,status,weight
            fe_public,FRONTEND,,OPEN,
            be_relay,relay1,0,UP,1
            be_relay,relay2,0,DOWN,1
            be_other,relay2,0,UP,1
            be_relay,BACKEND,0,UP,2
            """;

        Assert.Equal("DOWN", HaproxyStatsCsv.ServerStatus(csv, "be_relay", "relay2"));
        Assert.Equal("UP", HaproxyStatsCsv.ServerStatus(csv, "be_relay", "relay1"));
        Assert.Null(HaproxyStatsCsv.ServerStatus(csv, "be_relay", "relay3"));
    }

    [Theory]
    [InlineData("UP", true, false)]
    [InlineData("UP 1/3", false, false)]
    [InlineData("DOWN 1/2", false, false)]
    [InlineData("DOWN", false, true)]
    [InlineData("DOWN (agent)", false, true)]
    public void HaproxyStatus_InServiceOnlyWhenUpAlone_OutWhenDown(string status, bool up, bool down)
    {
        Assert.Equal((up, down), (ShippedHaproxy.IsUp(status), ShippedHaproxy.IsDown(status)));
    }

    [Fact]
    public void MetricSum_AddsEverySeriesOfTheMetric_AndNoOtherMetricWithTheSamePrefix()
    {
        const string text = """
            # TYPE vnc_relay_sessions_started_total counter
            vnc_relay_sessions_started_total{otel_scope_name="OrleansVncCluster.Relay",note="a b"} 12 1700000000000
            vnc_relay_sessions_started_total{otel_scope_name="other"} 3
            vnc_relay_sessions_started_total_extra 100
            vnc_relay_sessions_ended_total 7
            """;

        Assert.Equal(15, NodeMetrics.Sum(text, "vnc_relay_sessions_started_total"));
        Assert.Equal(0, NodeMetrics.Sum(text, "vnc_relay_sessions_resumed_total"));
    }

    [Fact]
    public void MembershipTable_ReadsEachSilosAddressGenerationAndStatus_AndSkipsTheVersion()
    {
        KeyValuePair<string, string>[] fields =
        [
            new("Version", """{"Version":4}"""),
            new("S10.0.0.12:11111:1", """{"SiloAddress":{"SiloAddress":"10.0.0.12:11111@155231635"},"Status":6,"SiloName":"host-c"}"""),
            new("S10.0.0.10:11111:2", """{"SiloAddress":{"SiloAddress":"10.0.0.10:11111@155231640"},"Status":3}"""),
        ];

        Assert.Equal(
            [new SiloRow("10.0.0.12:11111", "155231635", SiloRow.Dead), new SiloRow("10.0.0.10:11111", "155231640", SiloRow.Active)],
            MembershipTable.Parse(fields));
        Assert.Equal("c1/members/c1", MembershipTable.Key("c1"));
    }

    [Fact]
    public void FailoverWithinTwoSeconds_PassesBothSessionRows()
    {
        var results = BenchResultsSamples.Empty();
        results.Failover = Failover([0.1, 0.3, 1.9], allOpen: [0.1, 1.5, 1.9]);

        var verdicts = TargetEvaluation.Evaluate(results).ToList();

        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, FailoverFirst).Verdict);
        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, FailoverEvery).Verdict);
    }

    [Fact]
    public void OneKillOverTwoSeconds_FailsOnItsMax()
    {
        var results = BenchResultsSamples.Empty();
        results.Failover = Failover([0.1, 0.1, 4.7], allOpen: [0.1, 0.1, 4.7]);

        var verdict = Verdict(TargetEvaluation.Evaluate(results).ToList(), FailoverFirst);

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("max 4.70 s", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstSessionQuick_ButTheClientsOwnSessionsFailingLonger_FailsOnlyTheEverySessionRow()
    {
        var results = BenchResultsSamples.Empty();
        results.Failover = Failover([0.1, 0.1], allOpen: [1.9, 3.2]);

        var verdicts = TargetEvaluation.Evaluate(results).ToList();

        Assert.Equal(TargetEvaluation.Pass, Verdict(verdicts, FailoverFirst).Verdict);
        Assert.Equal(TargetEvaluation.Fail, Verdict(verdicts, FailoverEvery).Verdict);
    }

    [Fact]
    public void ConsolePage_BackWithinThreeSeconds_Passes_AndWithoutBrowser_IsNotMeasured()
    {
        var results = BenchResultsSamples.Empty();
        results.Failover = Failover([0.1], allOpen: [0.1]) with { Console = new ConsoleResumeResult([0.7, 2.9], 0.7, 2.9, null) };
        Assert.Equal(TargetEvaluation.Pass, Verdict(TargetEvaluation.Evaluate(results).ToList(), ConsoleRow).Verdict);

        results.Failover = Failover([0.1], allOpen: [0.1]);
        Assert.Equal(TargetEvaluation.NotMeasured, Verdict(TargetEvaluation.Evaluate(results).ToList(), ConsoleRow).Verdict);
    }

    [Fact]
    public void SilentHost_DeclaredDeadWithinTenSeconds_WithoutFalseDeath_Passes()
    {
        var results = BenchResultsSamples.Empty();
        results.SilentHost = SilentHost([5.9, 9.8], falseDeaths: 0);

        Assert.Equal(TargetEvaluation.Pass, Verdict(TargetEvaluation.Evaluate(results).ToList(), SilentRow).Verdict);
    }

    [Fact]
    public void SilentHost_AFalseDeath_FailsEvenWhenQuick()
    {
        var results = BenchResultsSamples.Empty();
        results.SilentHost = SilentHost([5.9], falseDeaths: 1);

        var verdict = Verdict(TargetEvaluation.Evaluate(results).ToList(), SilentRow);

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("1 false deaths", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkloadsThatStoppedBeforeMeasuring_Fail_WithTheirReason_AndReportTheirTables()
    {
        var results = BenchResultsSamples.Empty();
        results.SilentHost = new SilentHostResult(3, 0, [], 0, 0, 0, null, 0, 0, null, "`ip netns add` failed");

        var verdict = Verdict(TargetEvaluation.Evaluate(results).ToList(), SilentRow);

        Assert.Equal((TargetEvaluation.Fail, "`ip netns add` failed"), (verdict.Verdict, verdict.Evidence));
        Assert.Contains("Stopped early: `ip netns add` failed", MarkdownReport.Render(results), StringComparison.Ordinal);
    }

    private static FailoverResult Failover(double[] first, double[] allOpen) =>
        new(2, first.Length, first, Percentile.Of(first, 0.5), first.Max(), 100, 5, "503", null)
        {
            AllOpenSeconds = allOpen,
            AllOpenP50Seconds = Percentile.Of(allOpen, 0.5),
            AllOpenMaxSeconds = allOpen.Max(),
        };

    private static SilentHostResult SilentHost(double[] seconds, int falseDeaths) =>
        new(3, seconds.Length, seconds, Percentile.Of(seconds, 0.5), seconds.Max(), falseDeaths, falseDeaths == 0 ? null : "10.0.0.10:11111 status 6", 100, 0, null, null);

    private static TargetVerdict Verdict(List<TargetVerdict> verdicts, string prefix) => verdicts.Single(v => v.Target.StartsWith(prefix, StringComparison.Ordinal));
}
