namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// A source's token index (token to fingerprint, and VM id to token), kept in <see cref="Shards"/> index grains so that
/// no stored value grows with the source. One grain held a whole index until a 1,000,000-VM source made it an 81 MB
/// Redis value: its write took longer than the client's 5 s timeout, held up every other command on the shared
/// connection while it went through, and its JSON was the largest allocation at the end of a sync.
/// </summary>
/// <remarks>
/// A token's fingerprint lives in the shard its text hashes to, a VM's token in the shard the VM id hashes to. Each shard
/// is written on its own and only when it changed, so a failed write leaves some shards old and others new; every shard
/// is still true for what it holds, and the next plan redoes what an old shard lists. The grain keyed by the bare source
/// name is the index as it was stored before the split: read while no shard holds anything, cleared once they do.
/// </remarks>
public sealed class TokenIndex(IGrainFactory grains)
{
    /// <summary>Shards per source: a 1,000,000-VM index comes to about 1.3 MB per shard.</summary>
    public const int Shards = 64;

    /// <summary>Shard writes in flight at once: more only queue on the one Redis connection and run into its timeout.</summary>
    private const int WritesInFlight = 4;

    /// <summary>Every token the source last wrote, with its fingerprint.</summary>
    public async Task<Dictionary<string, string>> ReadAsync(string source)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(shard => Shard(source, shard).GetAsync()));
        var index = new Dictionary<string, string>(shards.Sum(shard => shard.Count), StringComparer.Ordinal);
        foreach (var shard in shards)
        {
            foreach (var (token, fingerprint) in shard)
            {
                index[token] = fingerprint;
            }
        }

        return index.Count > 0 ? index : await Unsplit(source).GetAsync();
    }

    /// <summary>
    /// Replaces the source's index. The dictionaries are only read; each shard keeps the part it is given (handed over
    /// without a copy within a silo).
    /// </summary>
    public async Task WriteAsync(string source, IReadOnlyDictionary<string, string> fingerprints, IReadOnlyDictionary<string, string> vms)
    {
        var parts = Enumerable.Range(0, Shards)
            .Select(_ => (Fingerprints: new Dictionary<string, string>(StringComparer.Ordinal), Vms: new Dictionary<string, string>(StringComparer.Ordinal)))
            .ToArray();
        foreach (var (token, fingerprint) in fingerprints)
        {
            parts[ShardOf(token)].Fingerprints[token] = fingerprint;
        }

        foreach (var (vm, token) in vms)
        {
            parts[ShardOf(vm)].Vms[vm] = token;
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = WritesInFlight };
        await Parallel.ForEachAsync(Enumerable.Range(0, Shards), options, async (shard, _) =>
            await Shard(source, shard).SetWithVmsAsync(parts[shard].Fingerprints, parts[shard].Vms));

        // Only now: had a shard failed, the unsplit index would still be what a fully empty set of shards falls back to.
        await Unsplit(source).SetWithVmsAsync(new(StringComparer.Ordinal), new(StringComparer.Ordinal));
    }

    /// <summary>Drops one token, so the source's next load writes it again even if it did not change.</summary>
    public Task ForgetAsync(string source, string token) =>
        Task.WhenAll(Shard(source, ShardOf(token)).ForgetAsync(token), Unsplit(source).ForgetAsync(token));

    /// <summary>The token the source last wrote for the VM <paramref name="vmId"/>, or null (a hint: see <see cref="ITokenIndexGrain.FindVmAsync"/>).</summary>
    public async Task<string?> FindVmAsync(string source, string vmId) =>
        await Shard(source, ShardOf(vmId)).FindVmAsync(vmId) ?? await Unsplit(source).FindVmAsync(vmId);

    /// <summary>The shard a token or VM id belongs to: FNV-1a over its UTF-16 code units, stable across processes and
    /// releases (string.GetHashCode is neither).</summary>
    public static int ShardOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (int)(hash % Shards);
    }

    /// <summary>The grain key of one shard. A source is named after a file or is "abiquo", and no file name holds a '/',
    /// so a shard's key is never a source's own.</summary>
    public static string ShardKey(string source, int shard) => $"{source}/{shard:D2}";

    private ITokenIndexGrain Shard(string source, int shard) => grains.GetGrain<ITokenIndexGrain>(ShardKey(source, shard));

    private ITokenIndexGrain Unsplit(string source) => grains.GetGrain<ITokenIndexGrain>(source);
}
