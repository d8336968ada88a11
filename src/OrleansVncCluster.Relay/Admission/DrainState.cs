namespace OrleansVncCluster.Relay.Admission;

/// <summary>Whether this node takes new sessions. Draining keeps /healthz at 200 (so HAProxy does not cut live
/// sessions) but makes /readyz 503 and the HAProxy agent answer "drain".</summary>
public sealed class DrainState
{
    private int _draining;

    /// <summary>True once a drain started; a drained node restarts to serve again.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) == 1;

    /// <summary>Starts draining; false when already draining.</summary>
    public bool Start() => Interlocked.Exchange(ref _draining, 1) == 0;
}
