using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>A node's Prometheus text on its admin port (/metrics answers without the admin token).</summary>
internal static class NodeMetrics
{
    // Generous: a node under the bench's own load (and a shared machine's) can take seconds to answer a scrape; a scrape
    // that still times out stops the workload with its reason (TaskCanceledException), never the whole bench.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Sessions the node has relayed since it started (vnc_relay_sessions_started_total).</summary>
    public static async Task<double> SessionsStartedAsync(RelayPeer node) => Sum(await ScrapeAsync(node), "vnc_relay_sessions_started_total");

    /// <summary>The node's garbage collection counters now, or null when it did not answer the scrape.</summary>
    public static async Task<GcTotals?> GcTotalsAsync(RelayPeer node) => await TryScrapeAsync(node) is { } text ? GcTotals.Parse(text) : null;

    /// <summary>
    /// The node's JIT counters now, or null when it did not answer the scrape. A node's first scrape compiles the
    /// exporter's own code: read once before the window opens, so that cost is not the window's.
    /// </summary>
    public static async Task<JitTotals?> JitTotalsAsync(RelayPeer node) => await TryScrapeAsync(node) is { } text ? JitTotals.Parse(text) : null;

    /// <summary>
    /// The sum of every series of <paramref name="metric"/> in Prometheus text (0 when it has none yet); with
    /// <paramref name="label"/> (for example <c>gc_heap_generation="gen1"</c>) only the series that carry it.
    /// </summary>
    public static double Sum(string text, string metric, string? label = null)
    {
        var sum = 0.0;
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith(metric, StringComparison.Ordinal) || line.Length == metric.Length || line[metric.Length] is not ('{' or ' '))
            {
                continue;
            }

            // "name{labels} value [timestamp]": the value follows the closing brace (labels may hold spaces), else the name.
            var valueAt = line[metric.Length] == '{' ? line.LastIndexOf('}') + 1 : metric.Length;
            if (label is not null && !line.AsSpan(metric.Length, valueAt - metric.Length).Contains(label, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[valueAt..];
            var fields = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum += value;
            }
        }

        return sum;
    }

    private static async Task<string?> TryScrapeAsync(RelayPeer node)
    {
        try
        {
            return await ScrapeAsync(node);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            // A figure beside the measurement, not the measurement: a node too busy to answer leaves it out.
            return null;
        }
    }

    private static Task<string> ScrapeAsync(RelayPeer node) => Http.GetStringAsync(new Uri($"http://{node.Address}:{node.AdminPort}/metrics"));
}

/// <summary>
/// A node's garbage collection counters since it started, from the runtime's own meter (System.Runtime) on /metrics: the
/// time every thread was paused, the collections by the oldest generation each one collected, and the bytes allocated.
/// Two readings give a window's collections, which say how much of a set-up's time was the node standing still.
/// </summary>
internal readonly record struct GcTotals(double PausedSeconds, double Gen0, double Gen1, double Gen2, double AllocatedBytes)
{
    /// <summary>The counters in a node's Prometheus text.</summary>
    public static GcTotals Parse(string text) => new(
        NodeMetrics.Sum(text, "dotnet_gc_pause_time_seconds_total"),
        NodeMetrics.Sum(text, "dotnet_gc_collections_total", "gc_heap_generation=\"gen0\""),
        NodeMetrics.Sum(text, "dotnet_gc_collections_total", "gc_heap_generation=\"gen1\""),
        NodeMetrics.Sum(text, "dotnet_gc_collections_total", "gc_heap_generation=\"gen2\""),
        NodeMetrics.Sum(text, "dotnet_gc_heap_total_allocated_bytes_total"));
}

/// <summary>
/// A node's JIT counters since it started (System.Runtime on /metrics): methods compiled, tier-0 and recompilations
/// alike, and the time spent compiling. Two readings say how much a window's sessions found still to compile, which
/// the start-up rehearsal is there to leave at nearly nothing.
/// </summary>
internal readonly record struct JitTotals(double Methods, double Seconds)
{
    /// <summary>The counters in a node's Prometheus text.</summary>
    public static JitTotals Parse(string text) => new(
        NodeMetrics.Sum(text, "dotnet_jit_compiled_methods_total"),
        NodeMetrics.Sum(text, "dotnet_jit_compilation_time_seconds_total"));

    /// <summary>"the node compiled 249 methods (JIT 0.12 s) during them": the window from this reading to <paramref name="after"/>.</summary>
    public string During(JitTotals after) =>
        FormattableString.Invariant($"the node compiled {after.Methods - Methods:N0} methods (JIT {after.Seconds - Seconds:F2} s) during them");
}
