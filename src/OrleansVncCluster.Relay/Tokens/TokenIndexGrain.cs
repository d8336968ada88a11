using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Keeps one shard of a source's token index (<see cref="TokenIndex"/>), or the whole index as stored before the split.</summary>
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
        if (Same(fingerprints, state.State.Fingerprints) && Same(vms, state.State.Vms))
        {
            // A re-sync rewrites every shard of its source; most of a small source's shards hold what they held.
            return;
        }

        var (previous, previousVms) = (state.State.Fingerprints, state.State.Vms);
        state.State.Fingerprints = fingerprints;
        state.State.Vms = vms;
        try
        {
            // A shard may hold VMs and no fingerprints: their tokens hash to other shards.
            await (fingerprints.Count == 0 && vms.Count == 0 ? state.ClearStateAsync() : state.WriteStateAsync());
        }
        catch
        {
            // As for a token: a failed write must leave the index as stored, so the next plan redoes what it lists.
            (state.State.Fingerprints, state.State.Vms) = (previous, previousVms);
            throw;
        }
    }

    private static bool Same(Dictionary<string, string> first, Dictionary<string, string> second) =>
        first.Count == second.Count && first.All(pair => second.TryGetValue(pair.Key, out var other) && other == pair.Value);
}
