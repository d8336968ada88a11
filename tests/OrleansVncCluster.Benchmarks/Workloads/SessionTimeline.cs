using System.Diagnostics;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// When each measured session started (ms since the timeline was made) and how long it took to set up: what ties slow
/// sessions to the part of a sync they met (<see cref="SyncParts"/>), and what <c>BENCH_SESSION_TIMES</c> writes out.
/// Filled by <see cref="SetupLatency"/>'s tally.
/// </summary>
internal sealed class SessionTimeline
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly List<(double StartMs, double Ms)> _sessions = [];

    /// <summary>When the timeline was made (its time 0).</summary>
    public DateTime Began { get; } = DateTime.UtcNow;

    /// <summary>Milliseconds since the timeline was made.</summary>
    public double ElapsedMs => Stopwatch.GetElapsedTime(_origin).TotalMilliseconds;

    /// <summary>A session that ended now after <paramref name="ms"/> of set-up.</summary>
    public void Add(double ms)
    {
        var startMs = ElapsedMs - ms;
        lock (_sessions)
        {
            _sessions.Add((startMs, ms));
        }
    }

    /// <summary>The sessions so far.</summary>
    public IReadOnlyList<(double StartMs, double Ms)> Sessions()
    {
        lock (_sessions)
        {
            return [.. _sessions];
        }
    }
}
