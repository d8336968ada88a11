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

    public Task<string?> FindVmAsync(string vmId) =>
        Task.FromResult(state.State.Vms.TryGetValue(vmId, out var token) ? token : null);

    public Task SetAsync(Dictionary<string, string> fingerprints) => SetWithVmsAsync(fingerprints, state.State.Vms);

    public async Task SetWithVmsAsync(Dictionary<string, string> fingerprints, Dictionary<string, string> vms)
    {
        var (previous, previousVms) = (state.State.Fingerprints, state.State.Vms);
        state.State.Fingerprints = fingerprints;
        state.State.Vms = fingerprints.Count == 0 ? new(StringComparer.Ordinal) : vms;
        try
        {
            await (fingerprints.Count == 0 ? state.ClearStateAsync() : state.WriteStateAsync());
        }
        catch
        {
            // As for a token: a failed write must leave the index as stored, so the next plan redoes what it lists.
            (state.State.Fingerprints, state.State.Vms) = (previous, previousVms);
            throw;
        }
    }
}
