using OrleansVncCluster.Relay.Cluster;

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

    /// <summary>Every token the source last wrote, with its fingerprint, in the parts it is stored in.</summary>
    public async Task<ShardedIndex> ReadAsync(string source)
    {
        // Each shard's answer becomes its part as it is: a plan only reads the index it was made against.
        var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(shard => Shard(source, shard).GetAsync()));
        return shards.Any(shard => shard.Count > 0) ? new ShardedIndex(shards) : ShardedIndex.From(await Unsplit(source).GetAsync());
    }

    /// <summary>
    /// Replaces the source's index. Each shard's grain keeps its part as it is (handed over without a copy within a silo),
    /// so the caller must not change <paramref name="fingerprints"/> or <paramref name="vms"/> afterwards.
    /// </summary>
    public async Task WriteAsync(string source, ShardedIndex fingerprints, ShardedIndex vms)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = WritesInFlight };
        await Parallel.ForEachAsync(Enumerable.Range(0, Shards), options, async (shard, _) =>
        {
            // Each write serializes its part on a pool thread, and its continuations went to that thread's own queue,
            // ahead of the sessions' work: every session set-up of the node waited about 95 ms at the end of a
            // 100,000-VM sync (docs/benchmarks.md). Each shard now starts behind the work already queued.
            await Task.Yield();
            await Shard(source, shard).SetWithVmsAsync(fingerprints.Part(shard), vms.Part(shard));
        });

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

    private ITokenIndexGrain Shard(string source, int shard) => grains.ForKey<ITokenIndexGrain>(ShardKey(source, shard));

    private ITokenIndexGrain Unsplit(string source) => grains.ForKey<ITokenIndexGrain>(source);
}
