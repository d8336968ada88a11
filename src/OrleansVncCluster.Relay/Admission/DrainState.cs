namespace OrleansVncCluster.Relay.Admission;

/// <summary>Whether this node takes new sessions. Draining keeps /healthz at 200 (so HAProxy does not cut live
/// sessions) but makes /readyz 503 and the HAProxy agent answer "drain".</summary>
public sealed class DrainState
{
    private int _draining;

    /// <summary>True from the start of a drain until an operator cancels it (a node that drained to its end restarts to serve again).</summary>
    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    /// <summary>Starts draining; false when already draining.</summary>
    public bool Start() => Interlocked.Exchange(ref _draining, 1) == 0;

    /// <summary>Takes sessions again; false when the node was not draining.</summary>
    public bool Stop() => Interlocked.Exchange(ref _draining, 0) == 1;
}
