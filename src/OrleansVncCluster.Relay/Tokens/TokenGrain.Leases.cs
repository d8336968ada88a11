namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The token's live sessions across the cluster (Limits:MaxSessionsPerToken), kept apart from its persisted entry.</summary>
internal sealed partial class TokenGrain
{
    private GrainLeases? _leases;

    private GrainLeases Leases => _leases ??= new GrainLeases(this, ServiceProvider.GetRequiredService<IClusterMembershipService>(), time);

    public Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max) => Leases.AcquireAsync(leaseId, node, max);

    public Task<bool> AcquireLeaseAsync(string leaseId, SiloAddress node, int max, bool viewOnly) => Leases.AcquireAsync(leaseId, node, max, viewOnly);

    public Task<LeasePresence> PresenceAsync(string leaseId) => Leases.PresenceAsync(leaseId);

    public Task ReleaseLeaseAsync(string leaseId) => Leases.ReleaseAsync(leaseId);

    public Task<int> LeaseCountAsync() => Leases.CountAsync();
}
