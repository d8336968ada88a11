using System.Diagnostics.Metrics;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// The recorder's counters, on the node's meter (<see cref="RelayMetrics.Meter"/>): <c>vnc_relay_recordings_started_total</c>,
/// <c>vnc_relay_recordings_failed_total{reason}</c> (a recording that could not start or stopped early:
/// <c>not_configured</c>, <c>unwritable</c>, <c>disk_budget</c>, <c>no_handshake</c>, <c>write_failed</c>; with
/// <c>required</c> its session was refused or closed) and <c>vnc_relay_recording_bytes_total</c> (bytes written by
/// finished recordings).
/// </summary>
public sealed class RecordingMetrics
{
    private readonly Counter<long> _failed;
    private long _started;
    private long _bytes;

    /// <summary>Creates the instruments on the node's meter.</summary>
    public RecordingMetrics(RelayMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        metrics.Meter.CreateObservableCounter("vnc_relay_recordings_started", () => Interlocked.Read(ref _started), description: "Session recordings started on this node.");
        metrics.Meter.CreateObservableCounter("vnc_relay_recording_bytes", () => Interlocked.Read(ref _bytes), description: "Bytes written by this node's finished recordings.");
        _failed = metrics.Meter.CreateCounter<long>("vnc_relay_recordings_failed",
            description: "Recordings that could not start or stopped early, by reason; a session that had to be recorded was refused or closed.");
    }

    internal void Started() => Interlocked.Increment(ref _started);

    internal void Finished(long bytes) => Interlocked.Add(ref _bytes, bytes);

    internal void Failed(string reason) => _failed.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
