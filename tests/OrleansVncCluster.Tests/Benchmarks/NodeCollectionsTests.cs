using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Workloads;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>
/// The bench's reading of a node's garbage collections over a window: the runtime's counters in its /metrics, two
/// readings made into pauses and collections a second, and the report's table of them under the sync tables.
/// </summary>
public sealed class NodeCollectionsTests
{
    // As OpenTelemetry's Prometheus exporter prints the System.Runtime meter of .NET 10 (taken from a node's /metrics).
    private const string Scrape = """
        # TYPE dotnet_gc_collections_total counter
        # UNIT dotnet_gc_collections_total {collection}
        # HELP dotnet_gc_collections_total The number of garbage collections that have occurred since the process has started.
        dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen2"} 5
        dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen1"} 12
        dotnet_gc_collections_total{otel_scope_name="System.Runtime",gc_heap_generation="gen0"} 230
        # TYPE dotnet_gc_heap_total_allocated_bytes_total counter
        dotnet_gc_heap_total_allocated_bytes_total{otel_scope_name="System.Runtime"} 67899744
        # TYPE dotnet_gc_last_collection_heap_size_bytes gauge
        dotnet_gc_last_collection_heap_size_bytes{otel_scope_name="System.Runtime",gc_heap_generation="gen1"} 440
        # TYPE dotnet_gc_pause_time_seconds_total counter
        dotnet_gc_pause_time_seconds_total{otel_scope_name="System.Runtime"} 0.135249
        # TYPE dotnet_jit_compilation_time_seconds_total counter
        dotnet_jit_compilation_time_seconds_total{otel_scope_name="System.Runtime"} 0.7983945
        # TYPE dotnet_jit_compiled_il_size_bytes_total counter
        dotnet_jit_compiled_il_size_bytes_total{otel_scope_name="System.Runtime"} 334091
        # TYPE dotnet_jit_compiled_methods_total counter
        dotnet_jit_compiled_methods_total{otel_scope_name="System.Runtime"} 5044
        vnc_relay_sessions_started_total 15
        """;

    [Fact]
    public void TheRuntimesCounters_AreReadFromANodesScrape_EachGenerationApart()
    {
        var totals = GcTotals.Parse(Scrape);

        Assert.Equal(new GcTotals(0.135249, 230, 12, 5, 67_899_744), totals);
    }

    [Fact]
    public void TheJitsCounters_AreReadFromANodesScrape_AndTwoReadingsSayWhatAWindowCompiled()
    {
        var before = JitTotals.Parse(Scrape);

        Assert.Equal(new JitTotals(5044, 0.7983945), before);
        Assert.Equal("the node compiled 1,249 methods (JIT 0.32 s) during them", before.During(new JitTotals(6293, 1.12)));
    }

    [Fact]
    public void ALabelledSum_CountsOnlyTheSeriesWithThatLabel_AndNoneWithoutLabels()
    {
        Assert.Equal(247, NodeMetrics.Sum(Scrape, "dotnet_gc_collections_total"));
        Assert.Equal(12, NodeMetrics.Sum(Scrape, "dotnet_gc_collections_total", "gc_heap_generation=\"gen1\""));
        Assert.Equal(0, NodeMetrics.Sum(Scrape, "dotnet_gc_collections_total", "gc_heap_generation=\"loh\""));
        Assert.Equal(0, NodeMetrics.Sum(Scrape, "vnc_relay_sessions_started_total", "reason=\"x\""));
        Assert.Equal(15, NodeMetrics.Sum(Scrape, "vnc_relay_sessions_started_total"));
    }

    [Fact]
    public void TwoReadings_GiveTheWindowsPauses_CollectionsAndAllocations_ASecond()
    {
        var before = new GcTotals(1.000, 100, 10, 2, 1_048_576);
        var after = new GcTotals(1.450, 220, 40, 3, 1_048_576 + (1_500 * 1_048_576.0));

        var window = SyncNode.Between(before, after, seconds: 10)!;

        Assert.Equal(new NodeCollections(10, 450, 120, 30, 1, 1_500), window with { PausedMs = Math.Round(window.PausedMs, 6) });
        Assert.Equal(45, window.PausedMsPerSecond, 6);
        Assert.Equal((12, 3, 0.1), (window.Gen0PerSecond, window.Gen1PerSecond, window.Gen2PerSecond));
        Assert.Equal(150, window.AllocatedMiBPerSecond);
        Assert.Equal(450.0 / 151, window.MeanPauseMs, 6);
        Assert.Null(SyncNode.Between(null, after, 10));
        Assert.Null(SyncNode.Between(before, null, 10));
    }

    [Fact]
    public void AWindowWithoutCollections_HasNoMeanPause_AndAnEmptyWindowNoRates()
    {
        Assert.Equal(0, new NodeCollections(5, 0, 0, 0, 0, 10).MeanPauseMs);
        Assert.Equal(0, new NodeCollections(0, 3, 1, 0, 0, 10).PausedMsPerSecond);
    }

    [Fact]
    public void TheRunsLog_NamesTheWindowsPausesAndCollections()
    {
        var line = SyncMeasurement.DescribeCollections(new NodeCollections(10, 450, 120, 30, 1, 1_500));

        Assert.Equal("; collections paused the node 45.0 ms a second (gen0 12.0, gen1 3.0, gen2 0.1 a second, 150 MiB allocated a second)", line);
        Assert.Equal("", SyncMeasurement.DescribeCollections(null));
    }

    [Fact]
    public void TheReport_ShowsEachSyncsCollections_IdleAndDuring_OnlyWhenBothWereRead()
    {
        var results = BenchResultsSamples.Empty();
        var during = BenchResultsSamples.Setup("relay", 4.6, 18.84);
        var idle = BenchResultsSamples.Setup("relay", 4.0, 9.82);
        results.Sync.Add(new SyncResult(10_000, true, "measured", 3.0, 8_346, during, idle) { IdleCollections = new NodeCollections(15, 480, 120, 15, 0, 1_800) });
        var withoutBoth = MarkdownReport.Render(results);
        results.Sync.Add(new SyncResult(100_000, true, "measured", 13.6, 83_459, during, idle)
        {
            IdleCollections = new NodeCollections(15, 480, 120, 15, 0, 1_800),
            DuringCollections = new NodeCollections(13.5, 607.5, 94, 27, 2, 1_620),
        });

        var report = MarkdownReport.Render(results);

        Assert.DoesNotContain("garbage collections (the runtime's own counters", withoutBoth, StringComparison.Ordinal);
        Assert.Contains("| 100,000 | idle | 15.0 | 32.0 | 3.6 | 8.0 / 1.0 / 0.00 | 120 |", report, StringComparison.Ordinal);
        Assert.Contains("| 100,000 | during the sync | 13.5 | 45.0 | 4.9 | 7.0 / 2.0 / 0.15 | 120 |", report, StringComparison.Ordinal);
        Assert.DoesNotContain("| 10,000 | idle", report, StringComparison.Ordinal);
    }
}
