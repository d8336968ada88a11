using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Counts one client address's sessions across the cluster.</summary>
internal sealed class ClientSessionsGrain(IClusterMembershipService membership, TimeProvider time) : Grain, IClientSessionsGrain
{
    private GrainLeases? _leases;

    private GrainLeases Leases => _leases ??= new GrainLeases(this, membership, time);

    public Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max) => Leases.AcquireAsync(leaseId, node, max);

    public Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max, bool viewOnly) => Leases.AcquireAsync(leaseId, node, max, viewOnly);

    public Task ReleaseLeaseAsync(string leaseId) => Leases.ReleaseAsync(leaseId);

    public Task<int> LeaseCountAsync() => Leases.CountAsync();
}
