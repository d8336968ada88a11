using System.Diagnostics;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// When each measured session started (ms since the timeline was made) and how long it took to set up: what ties slow
/// sessions to the part of a sync they met (<see cref="SyncParts"/>). Filled by <see cref="SetupLatency.RunUntilAsync"/>.
/// </summary>
internal sealed class SessionTimeline
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly List<(double StartMs, double Ms)> _sessions = [];

    /// <summary>Milliseconds since the timeline was made.</summary>
    public double ElapsedMs => Stopwatch.GetElapsedTime(_origin).TotalMilliseconds;

    /// <summary>A session that ended now after <paramref name="ms"/> of set-up.</summary>
    public void Add(double ms) => Add(ElapsedMs - ms, ms);

    /// <summary>A session that started at <paramref name="startMs"/> and took <paramref name="ms"/>.</summary>
    public void Add(double startMs, double ms)
    {
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
