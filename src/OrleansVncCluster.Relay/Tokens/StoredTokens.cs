using Orleans.Storage;
using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// Reads a token grain's persisted state from the "tokens" grain storage (Redis) without activating the grain: the same
/// record the grain loads when it activates. For lookups whose grain cannot answer during a failover (<see cref="StorageFallback"/>).
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
            await storage.ReadStateAsync(TokenGrain.StateName, grains.GetGrain<ITokenGrain>(token).GetGrainId(), state)
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
}
