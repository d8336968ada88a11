using System.Globalization;
using System.Text;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// Prometheus text exposition at /metrics on the admin listener. Written by hand from the node's counters: a handful of
/// series, no per-frame instrumentation, and `vnc_relay_active_sessions` is the autoscaling signal.
/// </summary>
public static class MetricsEndpoint
{
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder endpoints, int adminPort) =>
        endpoints.MapGet("/metrics", (RelayMetrics metrics, SessionRegistry sessions, DrainState drain) =>
        {
            var live = sessions.Snapshot();
            var text = new StringBuilder();
            Gauge(text, "vnc_relay_active_sessions", "Live console sessions on this node.", live.Count);
            Gauge(text, "vnc_relay_draining", "1 while this node drains.", drain.IsDraining ? 1 : 0);
            Counter(text, "vnc_relay_sessions_started_total", "Sessions that reached their VNC server.", metrics.SessionsStarted);
            Labeled(text, "vnc_relay_sessions_failed_total", "Sessions refused before relaying, by reason.", "reason", metrics.FailuresByReason);
            Labeled(text, "vnc_relay_sessions_ended_total", "Sessions that ended, by outcome.", "outcome", metrics.EndingsByOutcome);
            Counter(text, "vnc_relay_bytes_to_target_total", "Bytes relayed browser to VNC server.", metrics.BytesToTarget + live.Sum(s => s.BytesToTarget));
            Counter(text, "vnc_relay_bytes_to_client_total", "Bytes relayed VNC server to browser.", metrics.BytesToClient + live.Sum(s => s.BytesToClient));
            text.Append("# HELP vnc_relay_token_lookups_total Token lookups by result.\n# TYPE vnc_relay_token_lookups_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"cache_hit\"}} {metrics.LookupCacheHits}\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"grain\"}} {metrics.LookupMisses}\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"unknown\"}} {metrics.LookupUnknown}\n");
            Counter(text, "vnc_relay_tickets_issued_total", "Console tickets issued by this node.", metrics.TicketsIssued);
            // A view of the refusals above, not a second count: the ones a ticket or the plain-token switch caused.
            Labeled(text, "vnc_relay_ticket_refusals_total", "Tickets and plain tokens refused, by reason.", "reason",
                metrics.FailuresByReason.Where(p => p.Key.StartsWith("ticket_", StringComparison.Ordinal) || p.Key == "plain_token_refused"));

            return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
        }).WithMetadata(new AdminPortMetadata(adminPort));

    private static void Labeled(StringBuilder text, string name, string help, string label, IEnumerable<KeyValuePair<string, long>> counts)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n");
        foreach (var (value, count) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{{label}=\"{value}\"}} {count}\n");
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
}
