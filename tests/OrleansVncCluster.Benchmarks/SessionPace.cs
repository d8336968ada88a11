namespace OrleansVncCluster.Benchmarks;

/// <summary>
/// How a load opens its sessions: <see cref="Concurrency"/> at a time, each starting as the one before it ends (a
/// closed loop, as fast as the peer answers), or <see cref="PerSecond"/> started on a clock whatever the ones before
/// them are doing (an open loop, which leaves a peer that keeps up with it the CPU it does not need).
/// </summary>
internal readonly record struct SessionPace(int Concurrency, int? PerSecond = null)
{
    /// <summary>Sessions an open loop lets run at once; past it a due session is counted as failed, not queued.</summary>
    public const int MaxInFlight = 512;

    /// <summary>How the report names it.</summary>
    public override string ToString() =>
        PerSecond is { } rate ? $"{rate:N0} sessions a second started on a clock (open loop)" : $"concurrency {Concurrency}";
}
