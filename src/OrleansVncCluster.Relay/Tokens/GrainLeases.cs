namespace OrleansVncCluster.Relay.Tokens;

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

    public Task<bool> AcquireAsync(string leaseId, SiloAddress node, int max, bool viewOnly = false)
    {
        var taken = _book.TryAcquire(leaseId, node, max, Status, time.GetUtcNow(), viewOnly);
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

    public Task<LeasePresence> PresenceAsync(string leaseId) => Task.FromResult(_book.Presence(leaseId, Status, time.GetUtcNow()));

    private SiloStatus Status(SiloAddress silo) => membership.CurrentSnapshot.GetSiloStatus(silo);

    private void KeepAliveWhileHeld()
    {
        var holding = _book.Count > 0;
        if (holding && _keeper is null)
        {
            _keeper = grain.RegisterGrainTimer(() =>
            {
                _book.Prune(Status, time.GetUtcNow());
                KeepAliveWhileHeld();
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions { DueTime = PrunePeriod, Period = PrunePeriod, KeepAlive = true });
        }
        else if (!holding && _keeper is not null)
        {
            _keeper.Dispose();
            _keeper = null;
        }
    }
}
