using OrleansVncCluster.Benchmarks.Reporting;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>The bench's verdicts on the sync-1m workload: the first sync of 1,000,000 VMs and the 1 % re-sync.</summary>
public sealed class BenchSyncMillionTests
{
    private const string FirstSync = "First sync of 1,000,000 VMs";
    private const string Resync = "Re-sync of 1,000,000 VMs";

    [Fact]
    public void FirstSyncWithinTheMemoryBudget_WithEverySessionOpened_Passes()
    {
        var verdict = Judge(FirstSync, Sync(SyncResult.FirstSync, seconds: 775, peakRssMiB: 1423));

        Assert.Equal(TargetEvaluation.Pass, verdict.Verdict);
        Assert.Contains("node peak RSS 1423 MiB", verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstSyncOverOnePointFiveGigabytes_Fails()
    {
        var verdict = Judge(FirstSync, Sync(SyncResult.FirstSync, seconds: 254, peakRssMiB: 1440));

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
    }

    [Fact]
    public void FirstSyncDuringWhichASessionFailed_Fails()
    {
        var verdict = Judge(FirstSync, Sync(SyncResult.FirstSync, seconds: 254, peakRssMiB: 1000, failedSessions: 1));

        Assert.Equal(TargetEvaluation.Fail, verdict.Verdict);
        Assert.Contains("1 failed", verdict.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(29.9, TargetEvaluation.Pass)]
    [InlineData(30.0, TargetEvaluation.Fail)]
    public void Resync_IsJudgedAgainstThirtySeconds(double seconds, string expected)
    {
        var verdict = Judge(Resync, Sync(SyncResult.FirstSync, seconds: 254, peakRssMiB: 1000), Sync(SyncResult.Resync, seconds, peakRssMiB: 1000));

        Assert.Equal(expected, verdict.Verdict);
    }

    [Fact]
    public void AFirstSyncThatDidNotFinish_FailsBothTargets()
    {
        var unfinished = new SyncResult(1_000_000, true, "/api/sync answered 504: the sync did not finish", null, null, Latency(0), Latency(0))
        {
            Phase = SyncResult.FirstSync,
        };

        Assert.Equal(TargetEvaluation.Fail, Judge(FirstSync, unfinished).Verdict);
        Assert.Equal(TargetEvaluation.Fail, Judge(Resync, unfinished).Verdict);
    }

    [Fact]
    public void AQuickRunOfATenth_IsNotMeasuredAgainstTheMillionTargets()
    {
        var verdict = Judge(FirstSync, Sync(SyncResult.FirstSync, seconds: 60, peakRssMiB: 600) with { Vms = 100_000 });

        Assert.StartsWith(TargetEvaluation.NotMeasured, verdict.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void NoSyncMillionRun_LeavesBothTargetsNotMeasured()
    {
        var verdicts = TargetEvaluation.Evaluate(BenchResultsSamples.Empty()).ToList();

        Assert.Equal(TargetEvaluation.NotMeasured, verdicts.Single(v => v.Target.StartsWith(FirstSync, StringComparison.Ordinal)).Verdict);
        Assert.Equal(TargetEvaluation.NotMeasured, verdicts.Single(v => v.Target.StartsWith(Resync, StringComparison.Ordinal)).Verdict);
    }

    [Fact]
    public void Report_HasARowForEachSync()
    {
        var results = BenchResultsSamples.Empty();
        results.SyncMillion.AddRange([Sync(SyncResult.FirstSync, 775, 1423), Sync(SyncResult.Resync, 133.9, 2058) with { ChangedVms = 8502 }]);

        var markdown = MarkdownReport.Render(results);

        Assert.Contains("| first sync | 1,000,000 | – | measured | 775.0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| re-sync, 1 % changed | 1,000,000 | 8,502 | measured | 133.9 |", markdown, StringComparison.Ordinal);
    }

    private static TargetVerdict Judge(string prefix, params SyncResult[] syncs)
    {
        var results = BenchResultsSamples.Empty();
        results.SyncMillion.AddRange(syncs);
        return TargetEvaluation.Evaluate(results).Single(v => v.Target.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static SyncResult Sync(string phase, double seconds, double peakRssMiB, int failedSessions = 0) =>
        new(1_000_000, true, "measured", seconds, 834_417, Latency(failedSessions), Latency(0)) { Phase = phase, PeakRssMiB = peakRssMiB };

    private static LatencyResult Latency(int failed) =>
        new("relay", "during sync", 1000, 16, 1000 - failed, failed, 10, 20, 50, 900, 12, 800, failed > 0 ? "refused" : null);
}
