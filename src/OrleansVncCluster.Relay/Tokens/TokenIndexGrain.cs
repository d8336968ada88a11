using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Keeps a source's token index.</summary>
internal sealed class TokenIndexGrain(
    [PersistentState("index", TokenStorage.Name)] IPersistentState<TokenIndexState> state) : Grain, ITokenIndexGrain
{
    public Task<Dictionary<string, string>> GetAsync() => Task.FromResult(state.State.Fingerprints);

    public Task ForgetAsync(string token)
    {
        if (!state.State.Fingerprints.ContainsKey(token))
        {
            return Task.CompletedTask;
        }

        var fingerprints = new Dictionary<string, string>(state.State.Fingerprints, StringComparer.Ordinal);
        fingerprints.Remove(token);
        return SetAsync(fingerprints);
    }

    public async Task SetAsync(Dictionary<string, string> fingerprints)
    {
        var previous = state.State.Fingerprints;
        state.State.Fingerprints = fingerprints;
        try
        {
            await (fingerprints.Count == 0 ? state.ClearStateAsync() : state.WriteStateAsync());
        }
        catch
        {
            // As for a token: a failed write must leave the index as stored, so the next plan redoes what it lists.
            state.State.Fingerprints = previous;
            throw;
        }
    }
}
