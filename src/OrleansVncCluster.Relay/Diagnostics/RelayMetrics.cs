using System.Collections.Concurrent;

namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>
/// Counters of this node, exported at /metrics. Plain interlocked counters: one increment per session event, none per frame
/// (byte totals are folded in when a session ends, and live sessions' bytes are read from the registry at scrape time).
/// </summary>
public sealed class RelayMetrics
{
    private readonly ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _endings = new(StringComparer.Ordinal);
    private long _ticketsIssued;
    private long _started;
    private long _bytesToTarget;
    private long _bytesToClient;
    private long _lookupCacheHits;
    private long _lookupMisses;
    private long _lookupUnknown;

    public long SessionsStarted => Interlocked.Read(ref _started);

    public long BytesToTarget => Interlocked.Read(ref _bytesToTarget);

    public long BytesToClient => Interlocked.Read(ref _bytesToClient);

    public long LookupCacheHits => Interlocked.Read(ref _lookupCacheHits);

    public long LookupMisses => Interlocked.Read(ref _lookupMisses);

    public long LookupUnknown => Interlocked.Read(ref _lookupUnknown);

    public IReadOnlyDictionary<string, long> FailuresByReason => _failures;

    public IReadOnlyDictionary<string, long> EndingsByOutcome => _endings;

    public long TicketsIssued => Interlocked.Read(ref _ticketsIssued);

    internal void SessionStarted() => Interlocked.Increment(ref _started);

    internal void SessionFailed(string reason) => _failures.AddOrUpdate(reason, 1, static (_, n) => n + 1);

    internal void SessionEnded(string outcome, long toTarget, long toClient)
    {
        _endings.AddOrUpdate(outcome, 1, static (_, n) => n + 1);
        Interlocked.Add(ref _bytesToTarget, toTarget);
        Interlocked.Add(ref _bytesToClient, toClient);
    }

    internal void LookupCacheHit() => Interlocked.Increment(ref _lookupCacheHits);

    internal void LookupMiss() => Interlocked.Increment(ref _lookupMisses);

    internal void LookupUnknownToken() => Interlocked.Increment(ref _lookupUnknown);

    internal void TicketIssued() => Interlocked.Increment(ref _ticketsIssued);
}
