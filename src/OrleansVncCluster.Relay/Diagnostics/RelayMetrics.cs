using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;

namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>
/// The node's own instruments, on one <see cref="Meter"/> (<see cref="MeterName"/>) that the Prometheus exporter reads at
/// /metrics (Admin/MetricsEndpoint.cs). Names are the Prometheus names the exporter prints: counters get <c>_total</c>
/// from it, the unit is in the name (no instrument unit, so the exporter adds no second suffix). Nothing is recorded per
/// frame: one increment or one histogram value per session event; live sessions' bytes are read from the registry at
/// scrape time by the instruments the Admin floor adds (Admin/NodeGauges.cs).
/// </summary>
public sealed class RelayMetrics
{
    /// <summary>The meter's name, which the exporter is told to collect.</summary>
    public const string MeterName = "OrleansVncCluster.Relay";

    // Seconds, from a cache hit (well under a millisecond) to a login behind a slow VNC server; Prometheus' client
    // libraries use about this spread for request durations.
    private static readonly IReadOnlyList<double> ShortBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    // A console session lasts from seconds (a refused login) to hours (timeout tunnel 1h, reconnects).
    private static readonly IReadOnlyList<double> SessionBuckets = [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400];

    // A sync against a big Abiquo takes seconds to minutes.
    private static readonly IReadOnlyList<double> SyncBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Counter<long> _failed;
    private readonly Counter<long> _ended;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _ticketRefusals;
    private readonly Counter<long> _screenshots;
    private readonly Counter<long> _clipboardRefused;
    private readonly Counter<long> _clipboardRefusedBytes;
    private readonly Histogram<double> _setUp;
    private readonly Histogram<double> _lookupDuration;
    private readonly Histogram<double> _sessionDuration;
    private readonly Histogram<double> _syncDuration;
    private long _started;
    private long _ticketsIssued;
    private long _resumed;
    private long _bytesToTarget;
    private long _bytesToClient;

    /// <summary>Creates the instruments on a meter from <paramref name="meters"/> (disposed with the container).</summary>
    public RelayMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        // Observed rather than added to, so that they are printed from the start at 0 and rate() sees the first event.
        Meter.CreateObservableCounter("vnc_relay_sessions_started", () => Interlocked.Read(ref _started), description: "Sessions that reached their VNC server.");
        _failed = Meter.CreateCounter<long>("vnc_relay_sessions_failed", description: "Sessions refused before relaying, by reason.");
        _ended = Meter.CreateCounter<long>("vnc_relay_sessions_ended", description: "Sessions that ended, by outcome.");
        _lookups = Meter.CreateCounter<long>("vnc_relay_token_lookups", description: "Token lookups by result.");
        Meter.CreateObservableCounter("vnc_relay_tickets_issued", () => Interlocked.Read(ref _ticketsIssued), description: "Console tickets issued by this node.");
        Meter.CreateObservableCounter("vnc_relay_sessions_resumed", () => Interlocked.Read(ref _resumed),
            description: "Sessions admitted on a console page's resume credential (after a drain or a lost node).");
        _ticketRefusals = Meter.CreateCounter<long>("vnc_relay_ticket_refusals", description: "Tickets and plain tokens refused, by reason.");
        _screenshots = Meter.CreateCounter<long>("vnc_relay_screenshots", description: "Screenshots asked of this node (GET /api/screenshot), by outcome.");
        _clipboardRefused = Meter.CreateCounter<long>("vnc_relay_clipboard_refused",
            description: "Clipboard contents dropped by the clipboard policy, by direction (to_vm, from_vm) and reason (policy, too_large, view_only).");
        _clipboardRefusedBytes = Meter.CreateCounter<long>("vnc_relay_clipboard_refused_bytes",
            description: "Bytes of clipboard contents dropped by the clipboard policy, by direction.");
        _setUp = Meter.CreateHistogram("vnc_relay_session_setup_duration_seconds", unit: null,
            description: "From the WebSocket request to relaying: admission, token lookup, dial.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ShortBuckets });
        _lookupDuration = Meter.CreateHistogram("vnc_relay_token_lookup_duration_seconds", unit: null,
            description: "Token lookups that asked the token grain (cache misses), by result.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = ShortBuckets });
        _sessionDuration = Meter.CreateHistogram("vnc_relay_session_duration_seconds", unit: null,
            description: "Relayed sessions' lifetimes, by outcome.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SessionBuckets });
        _syncDuration = Meter.CreateHistogram("vnc_relay_sync_duration_seconds", unit: null,
            description: "Token syncs run on this node (where the sync grain lives), by result.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SyncBuckets });
    }

    /// <summary>The meter the Admin floor adds its scrape-time gauges to.</summary>
    public Meter Meter { get; }

    /// <summary>Bytes relayed browser to VNC server by the sessions that ended (live ones are in the session registry).</summary>
    public long EndedBytesToTarget => Interlocked.Read(ref _bytesToTarget);

    /// <summary>Bytes relayed VNC server to browser by the sessions that ended.</summary>
    public long EndedBytesToClient => Interlocked.Read(ref _bytesToClient);

    /// <summary>Turns an outcome's C# name (<c>ClientClosed</c>) into the label value (<c>client_closed</c>), like the refusal reasons.</summary>
    public static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    internal void SessionStarted(TimeSpan setUp)
    {
        Interlocked.Increment(ref _started);
        _setUp.Record(setUp.TotalSeconds);
    }

    internal void SessionFailed(string reason)
    {
        var label = new KeyValuePair<string, object?>("reason", reason);
        _failed.Add(1, label);
        // A view of the refusals above, not a second kind: the ones a ticket or the plain-token switch caused.
        if (reason.StartsWith("ticket_", StringComparison.Ordinal) || reason == "plain_token_refused")
        {
            _ticketRefusals.Add(1, label);
        }
    }

    internal void SessionEnded(string outcome, long toTarget, long toClient, TimeSpan duration)
    {
        var label = new KeyValuePair<string, object?>("outcome", SnakeCase(outcome));
        _ended.Add(1, label);
        _sessionDuration.Record(duration.TotalSeconds, label);
        Interlocked.Add(ref _bytesToTarget, toTarget);
        Interlocked.Add(ref _bytesToClient, toClient);
    }

    internal void LookupCacheHit() => _lookups.Add(1, new KeyValuePair<string, object?>("result", "cache_hit"));

    internal void LookupMiss() => _lookups.Add(1, new KeyValuePair<string, object?>("result", "grain"));

    internal void LookupUnknownToken() => _lookups.Add(1, new KeyValuePair<string, object?>("result", "unknown"));

    /// <summary>
    /// A grain lookup's time; <paramref name="result"/> is <c>found</c>, <c>unknown</c> or <c>unavailable</c>. A grain call
    /// that failed and was followed by a read of the token's stored record (Tokens/StorageFallback) adds a second
    /// observation, <c>storage</c> (admitted from it) or <c>storage_unavailable</c>, timed from the start of the lookup.
    /// </summary>
    internal void LookupTimed(TimeSpan elapsed, string result) =>
        _lookupDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("result", result));

    internal void TicketIssued() => Interlocked.Increment(ref _ticketsIssued);

    /// <summary>A session was admitted on a resume credential.</summary>
    internal void SessionResumed() => Interlocked.Increment(ref _resumed);

    /// <summary>A screenshot answered; <paramref name="outcome"/> is <c>taken</c> or why not (<c>busy</c>, <c>timeout</c>, ...).</summary>
    internal void Screenshot(string outcome) => _screenshots.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Clipboard contents of <paramref name="bytes"/> dropped going <paramref name="direction"/> (<c>to_vm</c>,
    /// <c>from_vm</c>) because of <paramref name="reason"/> (<c>policy</c>, <c>too_large</c>, <c>view_only</c>).</summary>
    internal void ClipboardRefused(string direction, string reason, long bytes)
    {
        var way = new KeyValuePair<string, object?>("direction", direction);
        _clipboardRefused.Add(1, way, new KeyValuePair<string, object?>("reason", reason));
        _clipboardRefusedBytes.Add(bytes, way);
    }

    /// <summary>A sync finished; <paramref name="succeeded"/> when it had no error.</summary>
    internal void SyncFinished(TimeSpan duration, bool succeeded) =>
        _syncDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("result", succeeded ? "success" : "failure"));
}
