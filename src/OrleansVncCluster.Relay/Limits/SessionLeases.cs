using Orleans.Runtime;

namespace OrleansVncCluster.Relay.Limits;

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

    /// <summary>Gives a lease back; unknown ids are ignored (the release may come after the grain moved or was collected).</summary>
    [Alias("ReleaseLease")]
    Task ReleaseLeaseAsync(string leaseId);

    /// <summary>Live leases (pruned of dead nodes), for tests and diagnostics.</summary>
    [Alias("LeaseCount")]
    Task<int> LeaseCountAsync();
}

/// <summary>Live sessions of one client address (its key, see <see cref="Networks.ClientKey"/>) across the cluster.</summary>
[Alias("vnc.IClientSessionsGrain")]
public interface IClientSessionsGrain : IGrainWithStringKey, ISessionLeaseHolder
{
}

/// <summary>
/// The lease table of one grain. Why leases die with their node instead of being renewed: Orleans membership already
/// decides, for every silo, when its process is gone (a restarted node is a new silo generation), and every silo holds
/// that verdict locally, so checking it costs a dictionary lookup and no traffic. TTL renewals would cost one grain call
/// per live session (or per grain) per period for all of a node's sessions, forever, to learn the same thing later.
/// Leases of a node whose silo membership calls Dead are dropped; leases of a silo membership no longer lists at all
/// (its row was cleaned up) are dropped once older than <see cref="UnknownNodeGrace"/>, so a node this silo has not heard
/// of yet (it joined a moment ago) is not mistaken for a dead one. A node that stops gracefully releases its sessions itself.
/// </summary>
internal sealed class LeaseBook
{
    /// <summary>How long a lease from a silo absent from membership is trusted (a silo that just joined may not be seen yet).</summary>
    internal static readonly TimeSpan UnknownNodeGrace = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    public int Count => _leases.Count;

    /// <summary>Takes a lease if fewer than <paramref name="max"/> are live; dead nodes' leases are pruned only when at the cap.</summary>
    public bool TryAcquire(string leaseId, SiloAddress node, int max, Func<SiloAddress, SiloStatus> status, DateTimeOffset now)
    {
        if (_leases.ContainsKey(leaseId))
        {
            return true;
        }

        if (_leases.Count >= max)
        {
            Prune(status, now);
            if (_leases.Count >= max)
            {
                return false;
            }
        }

        _leases[leaseId] = new Lease(node, now);
        return true;
    }

    public bool Release(string leaseId) => _leases.Remove(leaseId);

    /// <summary>Drops the leases of dead nodes; returns how many were dropped.</summary>
    public int Prune(Func<SiloAddress, SiloStatus> status, DateTimeOffset now)
    {
        List<string>? dead = null;
        foreach (var (id, lease) in _leases)
        {
            var nodeStatus = status(lease.Node);
            if (nodeStatus == SiloStatus.Dead || (nodeStatus == SiloStatus.None && now - lease.TakenAt > UnknownNodeGrace))
            {
                (dead ??= []).Add(id);
            }
        }

        foreach (var id in dead ?? [])
        {
            _leases.Remove(id);
        }

        return dead?.Count ?? 0;
    }

    private readonly record struct Lease(SiloAddress Node, DateTimeOffset TakenAt);
}

/// <summary>
/// A <see cref="LeaseBook"/> inside a grain. Leases live in memory only: persisting them would cost a storage write per
/// session open and close, and a lost activation (its silo died) forgets them, which under-counts for a while; a limit
/// failing open beats users locked out by counts nobody can release. While leases are held, a keep-alive timer stops the
/// activation from being collected (sessions last hours without touching the grain) and prunes dead nodes' leases.
/// </summary>
internal sealed class GrainLeases(IGrainBase grain, IClusterMembershipService membership, TimeProvider time)
{
    private static readonly TimeSpan PrunePeriod = TimeSpan.FromMinutes(1);
    private readonly LeaseBook _book = new();
    private IGrainTimer? _keeper;

    public Task<bool> AcquireAsync(string leaseId, SiloAddress node, int max)
    {
        var taken = _book.TryAcquire(leaseId, node, max, Status, time.GetUtcNow());
        KeepAliveWhileHeld();
        return Task.FromResult(taken);
    }

    public Task ReleaseAsync(string leaseId)
    {
        _book.Release(leaseId);
        KeepAliveWhileHeld();
        return Task.CompletedTask;
    }

    public Task<int> CountAsync()
    {
        _book.Prune(Status, time.GetUtcNow());
        return Task.FromResult(_book.Count);
    }

    private SiloStatus Status(SiloAddress silo) => membership.CurrentSnapshot.GetSiloStatus(silo);

    private void KeepAliveWhileHeld()
    {
        if (_book.Count > 0 && _keeper is null)
        {
            _keeper = grain.RegisterGrainTimer(() =>
            {
                _book.Prune(Status, time.GetUtcNow());
                KeepAliveWhileHeld();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions { DueTime = PrunePeriod, Period = PrunePeriod, KeepAlive = true });
        }
        else if (_book.Count == 0 && _keeper is not null)
        {
            _keeper.Dispose();
            _keeper = null;
        }
    }
}

/// <summary>Counts one client address's sessions across the cluster.</summary>
internal sealed class ClientSessionsGrain(IClusterMembershipService membership, TimeProvider time) : Grain, IClientSessionsGrain
{
    private GrainLeases? _leases;

    private GrainLeases Leases => _leases ??= new GrainLeases(this, membership, time);

    public Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max) => Leases.AcquireAsync(leaseId, node, max);

    public Task ReleaseLeaseAsync(string leaseId) => Leases.ReleaseAsync(leaseId);

    public Task<int> LeaseCountAsync() => Leases.CountAsync();
}
