using OrleansVncCluster.Benchmarks;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Workloads;
using static OrleansVncCluster.Tests.Benchmarks.BenchResultsSamples;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>Issue 17's targets table: every row judged from figures of the same run, NOT MEASURED when a figure is missing.</summary>
public sealed class BenchIssue17TargetsTests
{
    [Fact]
    public void Throughput_PassesOnlyWhenEveryCaseReachesSocat()
    {
        var results = Empty();
        foreach (var connections in new[] { 1, 16 })
        {
            results.Throughput.AddRange([
                Rate("relay", Throughput.Echo, 700, connections), Rate("socat", Throughput.Echo, 690, connections),
                Rate("relay", Throughput.Download, 1000, connections), Rate("socat", Throughput.Download, connections == 16 ? 1100 : 900, connections)]);
        }

        var verdict = Row(results, "Issue 17: echo and download");

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("download x16 0.91x", verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("echo x1 1.01x", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void SmallEcho_WithoutSocatInTheRun_IsNotMeasured_AndWithIt_IsJudged()
    {
        var results = Empty();
        results.Throughput.AddRange([Rate("relay", Throughput.EchoSmall, 20), Rate("relay", Throughput.EchoSmall, 40, 16)]);
        Assert.Equal(TargetEvaluation.NotMeasured, Row(results, "Issue 17: echo with 1 KiB").Verdict);

        results.Throughput.AddRange([Rate("socat", Throughput.EchoSmall, 19), Rate("socat", Throughput.EchoSmall, 38, 16)]);
        Assert.Equal(TargetEvaluation.Pass, Row(results, "Issue 17: echo with 1 KiB").Verdict);
    }

    [Fact]
    public void ColdNode_IsJudgedAgainstTheSameKindOfNodeWarm()
    {
        var results = Empty();
        results.Setup.AddRange([Setup("relay", 2, 7.0), Setup(BenchRunner.RedisPeerName, 3, 6.0)]);
        results.ColdSetup.AddRange([Setup(BenchRunner.ColdName("relay"), 5, 13.9), Setup(BenchRunner.ColdName(BenchRunner.RedisPeerName), 5, 12.6)]);

        var verdict = Row(results, "Issue 17: set-up p99 of a just-started node");

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict); // the Redis-backed node is 2.1x its warm p99
        Assert.Contains("relay (redis) (cold) p99 12.60 ms = 2.10x warm (6.00 ms)", verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("relay (cold) p99 13.90 ms = 1.99x warm", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisSetup_MustBeatBothSocatAndDirectTcp()
    {
        var results = Empty();
        results.Setup.AddRange([Setup(BenchRunner.RedisPeerName, 2, 3.0), Setup("socat", 5, 12.0), Setup("direct", 0.5, 1.4)]);

        var verdict = Row(results, "Issue 17: set-up p99 at concurrency 16 with tokens in Redis");

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("0.25x socat", verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("2.14x direct", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void RedisSetup_NamesHaproxyInTcpModeAgainstDirect_AsAReference_WithoutJudgingIt()
    {
        var results = Empty();
        results.Setup.AddRange([Setup(BenchRunner.RedisPeerName, 2, 3.0), Setup("socat", 5, 12.0), Setup("direct", 0.5, 1.6)]);
        Assert.DoesNotContain("for reference", Row(results, "Issue 17: set-up p99 at concurrency 16 with tokens in Redis").Evidence, StringComparison.Ordinal);

        results.Setup.Add(Setup(HaproxyTcpPeer.PeerName, 0.9, 2.4));
        var verdict = Row(results, "Issue 17: set-up p99 at concurrency 16 with tokens in Redis");

        Assert.Equal(TargetEvaluation.Pass, verdict.Verdict); // 0.25x socat, 1.88x direct: the reference does not change it
        Assert.EndsWith("; for reference, haproxy (TCP) p99 2.40 ms = 1.50x direct", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void IdleSession_IsJudgedAtTheLargestTierHeld()
    {
        var results = Empty();
        results.Idle.AddRange([Idle(1000, 11 * 1024), Idle(8526, 8526L * 21)]);

        var verdict = Row(results, "Issue 17: RSS per idle session");

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("21.0 KiB per session with 8,526 held", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void IdleTable_SaysHowANodeStartedForItsTiersWasStarted()
    {
        var results = Empty();
        const string Start = "a fresh node for the tier, Relay__StartupRehearsal=00:00:30 as shipped";
        results.Idle.AddRange([Idle(1000, 6 * 1000) with { Start = Start }, Idle(8526, 8526L * 11) with { Start = Start }, Idle(1000, 8 * 1000) with { Peer = "relay+haproxy" }]);

        var markdown = MarkdownReport.Render(results);

        Assert.Contains($"relay at 1,000 and 8,526: {Start}.", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("relay+haproxy at", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Sync_NeedsTheHundredThousandVmRun_AndJudgesTimeAndSetupTogether()
    {
        var results = Empty();
        results.Sync.Add(new SyncResult(10_000, true, "ok", 2.0, 10_000, Setup("relay", 2, 9), Setup("relay", 2, 8)));
        Assert.Equal(TargetEvaluation.NotMeasured, Row(results, "Issue 17: sync of 100,000").Verdict);

        results.Sync.Add(new SyncResult(100_000, true, "ok", 19.5, 100_000, Setup("relay", 2, 12), Setup("relay", 2, 8)));
        var verdict = Row(results, "Issue 17: sync of 100,000");

        Assert.Equal(TargetEvaluation.Pass, verdict.Verdict);
        Assert.Contains("19.5 s", verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("(1.50x)", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void SyncTables_SayHowTheIdleBaselineWasTaken_AndThatTheInventoryWasReadFirst()
    {
        var results = Empty() with { Settings = Empty().Settings with
        {
            SyncWarmupSeconds = 15, SyncIdleWindowSeconds = 12.5, SyncInventoryReadFirst = true,
            SyncNodeStart = "Relay__StartupRehearsal=00:00:30 as shipped in deploy/env/vnc-relay.env.example",
        } };
        results.Sync.Add(new SyncResult(100_000, true, "ok", 16.0, 83_459, Setup("relay", 2, 20), Setup("relay", 2, 16)));

        var markdown = MarkdownReport.Render(results);

        Assert.Contains("Each node started with Relay__StartupRehearsal=00:00:30 as shipped in deploy/env/vnc-relay.env.example: "
            + "with an Abiquo source, its start-up rehearsal also loads a made-up inventory", markdown, StringComparison.Ordinal);
        Assert.Contains("served sessions for 15 s unmeasured", markdown, StringComparison.Ordinal);
        Assert.Contains("its idle set-up was measured for 12.5 s, at concurrency 16", markdown, StringComparison.Ordinal);
        Assert.Contains("the bench read the simulator's inventory once", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void SyncTables_FromAnOlderRun_SayNothingOfABaselineWindowOrAnInventoryRead()
    {
        var results = Empty();
        results.Sync.Add(new SyncResult(100_000, true, "ok", 16.0, 83_459, Setup("relay", 2, 20), Setup("relay", 2, 16)));

        Assert.DoesNotContain("unmeasured", MarkdownReport.Render(results), StringComparison.Ordinal);
        Assert.DoesNotContain("inventory once", MarkdownReport.Render(results), StringComparison.Ordinal);
        Assert.DoesNotContain("Each node started with", MarkdownReport.Render(results), StringComparison.Ordinal);
    }

    private static IdleResult Idle(int reached, long growthKiB) =>
        new("relay", reached, reached, reached, 10, 100_000, 100_000 + growthKiB, 0, 0, 1, reached * 2, "held", null);

    private static TargetVerdict Row(BenchResults results, string prefix) =>
        TargetEvaluation.Evaluate(results).Single(v => v.Target.StartsWith(prefix, StringComparison.Ordinal));
}
