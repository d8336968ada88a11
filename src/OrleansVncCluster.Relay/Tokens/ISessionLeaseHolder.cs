namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// Something that counts live sessions cluster-wide as leases: the token grain (sessions per token) and the client grain
/// (sessions per client address). A lease names the node (silo) holding the session so it can be dropped when that node dies.
/// </summary>
[Alias("vnc.ISessionLeaseHolder")]
public interface ISessionLeaseHolder : IGrain
{
    /// <summary>Takes a lease unless <paramref name="max"/> live leases are already held; taking the same id again is a no-op that answers true.</summary>
    [Alias("AcquireLease")]
    Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max);

    /// <summary>
    /// Takes a lease that says whether its session only watches (a view session), so the holder can tell how many watch
    /// (<see cref="ITokenGrain.PresenceAsync"/>). A new alias: a node of the previous version fails this call and the
    /// lease check fails open, as for any unanswered lease.
    /// </summary>
    [Alias("AcquireRoleLease")]
    Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max, bool viewOnly);

    /// <summary>Gives a lease back; unknown ids are ignored (the release may come after the grain moved or was collected).</summary>
    [Alias("ReleaseLease")]
    Task ReleaseLeaseAsync(string leaseId);

    /// <summary>Live leases (pruned of dead nodes), for tests and diagnostics.</summary>
    [Alias("LeaseCount")]
    Task<int> LeaseCountAsync();
}
