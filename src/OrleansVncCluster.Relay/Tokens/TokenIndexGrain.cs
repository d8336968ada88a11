using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Keeps a source's token index.</summary>
internal sealed class TokenIndexGrain(
    [PersistentState("index", TokenStorage.Name)] IPersistentState<TokenIndexState> state) : Grain, ITokenIndexGrain
{
    public Task<Dictionary<string, string>> GetAsync() => Task.FromResult(state.State.Fingerprints);

    public Task SetAsync(Dictionary<string, string> fingerprints)
    {
        state.State.Fingerprints = fingerprints;
        return fingerprints.Count == 0 ? state.ClearStateAsync() : state.WriteStateAsync();
    }
}
