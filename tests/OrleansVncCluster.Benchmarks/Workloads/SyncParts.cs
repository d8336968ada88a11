using OrleansVncCluster.Benchmarks.Reporting;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Splits the sessions measured during a sync by the part of the sync they started in. The node reports how long its
/// last sync spent loading, planning and applying (<c>GET /api/sync</c>, each source's <c>lastLoad</c>, <c>lastPlan</c>,
/// <c>lastApply</c>); the parts follow each other from the moment the sync was asked for. Sessions that started before
/// that moment or after the apply (the sync's answer still on its way) are counted apart, as "around".
/// </summary>
internal static class SyncParts
{
    /// <summary>The part of sessions that started outside the sync's reported parts.</summary>
    public const string Around = "around (before the request or after the apply)";

    /// <param name="sessions">Each session's start and set-up time, in ms on the same clock as <paramref name="requestedAtMs"/>.</param>
    /// <param name="syncP99">The p99 of all those sessions, as the sync's row reports it (so the two cannot differ).</param>
    /// <param name="requestedAtMs">When the sync was asked for.</param>
    /// <param name="parts">The sync's parts in order, with their length in seconds.</param>
    public static IReadOnlyList<SyncPartLatency> Split(IReadOnlyList<(double StartMs, double Ms)> sessions, double syncP99, double requestedAtMs,
        IReadOnlyList<(string Part, double Seconds)> parts)
    {
        var result = new List<SyncPartLatency>();
        var from = requestedAtMs;
        foreach (var (part, seconds) in parts)
        {
            var to = from + (seconds * 1000);
            result.Add(Describe(part, seconds, sessions.Where(s => s.StartMs >= from && s.StartMs < to).ToList(), syncP99));
            from = to;
        }

        var around = sessions.Where(s => s.StartMs < requestedAtMs || s.StartMs >= from).ToList();
        if (around.Count > 0)
        {
            result.Add(Describe(Around, null, around, syncP99));
        }

        return result;
    }

    private static SyncPartLatency Describe(string part, double? seconds, List<(double StartMs, double Ms)> sessions, double syncP99) =>
        new(part, seconds, sessions.Count, Percentile.Of(sessions.Select(s => s.Ms), 0.99), sessions.Count(s => s.Ms > syncP99));
}
