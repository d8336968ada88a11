using System.Text.Json;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Workloads;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>The bench's split of a sync's sessions by the part of the sync (load, plan, apply) they started in.</summary>
public sealed class SyncPartsTests
{
    private static readonly (string, double)[] Parts = [("load", 1.0), ("plan", 0.5), ("apply", 2.0)];

    [Fact]
    public void EachSession_CountsInThePartItStartedIn_WithThoseAboveTheWholeSyncsP99()
    {
        var sessions = new List<(double StartMs, double Ms)> { (500, 4), (4_600, 4) };
        sessions.AddRange(Enumerable.Range(0, 10).Select(i => (1_000.0 + (i * 10), 30.0 + i)));
        sessions.AddRange(Enumerable.Range(0, 5).Select(i => (2_000.0 + (i * 10), 8.0)));
        sessions.AddRange(Enumerable.Range(0, 85).Select(i => (2_500.0 + (i * 20), 5.0)));

        // 102 sessions: the sync's p99 (the row's, computed where every set-up result is) is the 101st fastest, 38 ms;
        // only the load's 39 ms session took longer.
        var syncP99 = Percentile.Of(sessions.Select(s => s.Ms), 0.99);
        var split = SyncParts.Split(sessions, syncP99, requestedAtMs: 1_000, Parts);

        Assert.Equal(
            [
                new SyncPartLatency("load", 1.0, 10, 39, 1),
                new SyncPartLatency("plan", 0.5, 5, 8, 0),
                new SyncPartLatency("apply", 2.0, 85, 5, 0),
                new SyncPartLatency(SyncParts.Around, null, 2, 4, 0),
            ],
            split);
    }

    [Fact]
    public void NoSessionOutsideTheParts_LeavesOutTheAroundRow()
    {
        var split = SyncParts.Split([(1_100, 6), (2_600, 5)], syncP99: 6, requestedAtMs: 1_000, Parts);

        Assert.Equal(["load", "plan", "apply"], split.Select(p => p.Part));
        Assert.Equal([1, 0, 1], split.Select(p => p.Sessions));
    }

    [Fact]
    public void TheNodesSyncStatus_GivesTheBenchItsParts()
    {
        // As GET /api/sync writes it: ASP.NET Core's web defaults (camelCase, TimeSpan as text).
        var status = new SyncStatus
        {
            Runs = 3,
            LastDuration = TimeSpan.FromSeconds(13.6),
            Sources =
            [
                new SourceSyncStatus
                {
                    Name = "abiquo",
                    LastLoad = TimeSpan.FromSeconds(1.1),
                    LastPlan = TimeSpan.FromSeconds(0.4),
                    LastApply = TimeSpan.FromSeconds(12.1),
                },
            ],
        };
        var body = JsonSerializer.Serialize(status, new JsonSerializerOptions(JsonSerializerDefaults.Web));

        Assert.Equal([("load", 1.1), ("plan", 0.4), ("apply", 12.1)], SyncNode.ReportedParts(body));
    }

    [Fact]
    public void AStatusWithoutParts_GivesNone()
    {
        var body = JsonSerializer.Serialize(new SyncStatus { Sources = [new SourceSyncStatus { Name = "abiquo" }] },
            new JsonSerializerOptions(JsonSerializerDefaults.Web));

        Assert.Null(SyncNode.ReportedParts(body));
    }

    [Fact]
    public void TheReport_ShowsEachSyncsParts_OnlyWhenTheNodeReportedThem()
    {
        var results = BenchResultsSamples.Empty();
        var during = BenchResultsSamples.Setup("relay", 4.6, 18.84);
        var idle = BenchResultsSamples.Setup("relay", 4.0, 9.82);
        results.Sync.Add(new SyncResult(10_000, true, "measured", 3.0, 8_346, during, idle));
        var withoutParts = MarkdownReport.Render(results);
        results.Sync.Add(new SyncResult(100_000, true, "measured", 13.6, 83_459, during, idle)
        {
            Parts = [new SyncPartLatency("load", 1.13, 1_405, 43.1, 145), new SyncPartLatency("apply", 12.1, 26_151, 14.9, 105)],
        });

        var report = MarkdownReport.Render(results);

        Assert.DoesNotContain("by the part of it they started in", withoutParts, StringComparison.Ordinal);
        Assert.Contains("| 100,000 | load | 1.1 | 1,405 | 43.10 | 145 |", report, StringComparison.Ordinal);
        Assert.Contains("| 100,000 | apply | 12.1 | 26,151 | 14.90 | 105 |", report, StringComparison.Ordinal);
        Assert.DoesNotContain("| 10,000 | load", report, StringComparison.Ordinal);
    }
}
