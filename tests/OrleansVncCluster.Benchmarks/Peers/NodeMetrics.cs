using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>A node's Prometheus text on its admin port (/metrics answers without the admin token).</summary>
internal static class NodeMetrics
{
    // Generous: a node under the bench's own load (and a shared machine's) can take seconds to answer a scrape; a scrape
    // that still times out stops the workload with its reason (TaskCanceledException), never the whole bench.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Sessions the node has relayed since it started (vnc_relay_sessions_started_total).</summary>
    public static async Task<double> SessionsStartedAsync(RelayPeer node) =>
        Sum(await Http.GetStringAsync(new Uri($"http://{node.Address}:{node.AdminPort}/metrics")), "vnc_relay_sessions_started_total");

    /// <summary>The sum of every series of <paramref name="metric"/> in Prometheus text (0 when it has none yet).</summary>
    public static double Sum(string text, string metric)
    {
        var sum = 0.0;
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith(metric, StringComparison.Ordinal) || line.Length == metric.Length || line[metric.Length] is not ('{' or ' '))
            {
                continue;
            }

            // "name{labels} value [timestamp]": the value follows the closing brace (labels may hold spaces), else the name.
            var rest = line[metric.Length] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[metric.Length..];
            var fields = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                sum += value;
            }
        }

        return sum;
    }
}
