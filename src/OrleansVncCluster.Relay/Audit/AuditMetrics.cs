using System.Diagnostics.Metrics;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// The history's counters, on the node's meter (<see cref="RelayMetrics.Meter"/>), so /metrics prints them with the rest:
/// <c>vnc_relay_audit_records_written_total</c> (record writes that reached the store: a session is written when it
/// starts, at each checkpoint and when it ends) and <c>vnc_relay_audit_records_dropped_total{reason}</c>
/// (<c>queue_full</c>: the writer fell behind; <c>store_unavailable</c>: Redis was down or failed the write).
/// Observed counters, so both print 0 from the start and an alert on their rate sees the first drop.
/// </summary>
public sealed class AuditMetrics
{
    private long _written;
    private long _queueFull;
    private long _storeUnavailable;

    /// <summary>Creates the instruments on the node's meter.</summary>
    public AuditMetrics(RelayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.Meter.CreateObservableCounter("vnc_relay_audit_records_written", () => Interlocked.Read(ref _written),
            description: "Session history record writes that reached the store (start, checkpoints, end).");
        metrics.Meter.CreateObservableCounter("vnc_relay_audit_records_dropped", () => new[]
        {
            new Measurement<long>(Interlocked.Read(ref _queueFull), new KeyValuePair<string, object?>("reason", "queue_full")),
            new Measurement<long>(Interlocked.Read(ref _storeUnavailable), new KeyValuePair<string, object?>("reason", "store_unavailable")),
        }, description: "Session history record writes dropped, by reason: the session went on, its record may be incomplete.");
    }

    /// <summary>Record writes stored so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Record writes dropped so far, whatever the reason.</summary>
    public long Dropped => Interlocked.Read(ref _queueFull) + Interlocked.Read(ref _storeUnavailable);

    internal void RecordsWritten(int count) => Interlocked.Add(ref _written, count);

    internal void QueueFull() => Interlocked.Increment(ref _queueFull);

    internal void StoreUnavailable(int count) => Interlocked.Add(ref _storeUnavailable, count);
}
