using System.Globalization;
using System.Text;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// Prometheus text exposition at /metrics on the admin listener. Written by hand from the node's counters: a handful of
/// series, no per-frame instrumentation, and `vnc_relay_active_sessions` is the autoscaling signal.
/// </summary>
public static class MetricsEndpoint
{
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder endpoints, string adminHost) =>
        endpoints.MapGet("/metrics", (RelayMetrics metrics, SessionRegistry sessions, DrainState drain) =>
        {
            var live = sessions.Snapshot();
            var text = new StringBuilder();
            Gauge(text, "vnc_relay_active_sessions", "Live console sessions on this node.", live.Count);
            Gauge(text, "vnc_relay_draining", "1 while this node drains.", drain.IsDraining ? 1 : 0);
            Counter(text, "vnc_relay_sessions_started_total", "Sessions that reached their VNC server.", metrics.SessionsStarted);
            text.Append("# HELP vnc_relay_sessions_failed_total Sessions refused before relaying, by reason.\n# TYPE vnc_relay_sessions_failed_total counter\n");
            foreach (var (reason, count) in metrics.FailuresByReason.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"vnc_relay_sessions_failed_total{{reason=\"{reason}\"}} {count}\n");
            }

            text.Append("# HELP vnc_relay_sessions_ended_total Sessions that ended, by outcome.\n# TYPE vnc_relay_sessions_ended_total counter\n");
            foreach (var (outcome, count) in metrics.EndingsByOutcome.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"vnc_relay_sessions_ended_total{{outcome=\"{outcome}\"}} {count}\n");
            }

            Counter(text, "vnc_relay_bytes_to_target_total", "Bytes relayed browser to VNC server.", metrics.BytesToTarget + live.Sum(s => s.BytesToTarget));
            Counter(text, "vnc_relay_bytes_to_client_total", "Bytes relayed VNC server to browser.", metrics.BytesToClient + live.Sum(s => s.BytesToClient));
            text.Append("# HELP vnc_relay_token_lookups_total Token lookups by result.\n# TYPE vnc_relay_token_lookups_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"cache_hit\"}} {metrics.LookupCacheHits}\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"grain\"}} {metrics.LookupMisses}\n");
            text.Append(CultureInfo.InvariantCulture, $"vnc_relay_token_lookups_total{{result=\"unknown\"}} {metrics.LookupUnknown}\n");
            Counter(text, "vnc_relay_tickets_issued_total", "Console tickets issued by this node.", metrics.TicketsIssued);
            text.Append("# HELP vnc_relay_ticket_refusals_total Tickets and plain tokens refused, by reason.\n# TYPE vnc_relay_ticket_refusals_total counter\n");
            foreach (var (reason, count) in metrics.TicketRefusalsByReason.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture, $"vnc_relay_ticket_refusals_total{{reason=\"{reason}\"}} {count}\n");
            }

            return Results.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
        }).RequireHost(adminHost);

    private static void Gauge(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");
}
