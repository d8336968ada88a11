namespace OrleansVncCluster.Relay.Tokens;

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
    public bool TryAcquire(string leaseId, SiloAddress node, int max, Func<SiloAddress, SiloStatus> status, DateTimeOffset now, bool viewOnly = false)
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

        _leases[leaseId] = new Lease(node, now, viewOnly);
        return true;
    }

    /// <summary>Who holds leases here, pruned of dead nodes' first, as <paramref name="leaseId"/>'s holder sees it.</summary>
    public LeasePresence Presence(string leaseId, Func<SiloAddress, SiloStatus> status, DateTimeOffset now)
    {
        Prune(status, now);
        var viewers = 0;
        foreach (var (id, lease) in _leases)
        {
            if (lease.ViewOnly && id != leaseId)
            {
                viewers++;
            }
        }

        return new LeasePresence(_leases.ContainsKey(leaseId), viewers, _leases.Count);
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

    private readonly record struct Lease(SiloAddress Node, DateTimeOffset TakenAt, bool ViewOnly);
}
