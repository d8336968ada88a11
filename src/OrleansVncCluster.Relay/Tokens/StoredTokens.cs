using Orleans.Storage;
using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// Reads and creates a token grain's persisted state in the "tokens" grain storage (Redis) without activating the grain:
/// the same record the grain loads when it activates. Reads serve lookups whose grain cannot answer during a failover
/// (<see cref="StorageFallback"/>); creates serve a bulk sync's tokens that have no record yet (<see cref="TokenTable"/>).
/// </summary>
public sealed class StoredTokens(IServiceProvider services, IGrainFactory grains)
{
    /// <summary>Reads the stored entry of <paramref name="token"/> within <paramref name="timeout"/>.</summary>
    public async Task<StoredTokenRead> ReadAsync(string token, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Resolved per read: the silo registers its storage providers after this node's services are built.
        if (services.GetKeyedService<IGrainStorage>(TokenStorage.Name) is not { } storage)
        {
            return StoredTokenRead.Failed;
        }

        var state = new GrainState<TokenState>(new TokenState());
        try
        {
            await storage.ReadStateAsync(TokenGrain.StateName, grains.ForKey<ITokenGrain>(token).GetGrainId(), state)
                .WaitAsync(timeout, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Redis unreachable, slow or failing over itself: the read says nothing, and the lookup stays unavailable.
            return StoredTokenRead.Failed;
        }

        return state.RecordExists && state.State is { } stored
            ? new StoredTokenRead(true, stored.Entry, stored)
            : new StoredTokenRead(true, null);
    }

    /// <summary>
    /// Writes <paramref name="entry"/> as the record of <paramref name="token"/> only if the token has no record at all:
    /// the storage's version check (no ETag: "must not exist") makes it atomic in Redis and in memory storage alike.
    /// Returns false, writing nothing, when a record exists (another source's token, or a removed one's leftover), or when
    /// this node has no "tokens" storage; the caller then goes through the grain. Other storage failures throw.
    /// </summary>
    /// <remarks>
    /// Why: a token grain's write costs an activation, a storage read, messaging and a deactivation (about 17 KiB
    /// allocated and most of 90 µs of CPU); for a token nobody has yet, the record alone is what a lookup will read when
    /// it activates the grain. An activation already alive with no entry re-reads storage before it answers again
    /// (<see cref="TokenGrain"/>), so it cannot hide a token created here.
    /// </remarks>
    public async Task<bool> TryCreateAsync(string token, ConsoleTokenEntry entry)
    {
        if (services.GetKeyedService<IGrainStorage>(TokenStorage.Name) is not { } storage)
        {
            return false;
        }

        var state = new GrainState<TokenState>(new TokenState { Entry = entry }) { ETag = null };
        try
        {
            await storage.WriteStateAsync(TokenGrain.StateName, grains.ForKey<ITokenGrain>(token).GetGrainId(), state);
            return true;
        }
        catch (InconsistentStateException)
        {
            return false;
        }
    }
}
