using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>
/// A source's index is spread over <see cref="TokenIndex.Shards"/> grains, each stored and written on its own, so no
/// stored value grows with the source (a 1,000,000-VM index as one Redis value outlasted the client's timeout).
/// </summary>
public sealed class TokenIndexTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private static string NewSource() => "index-" + Guid.NewGuid().ToString("N")[..8];

    private static (Dictionary<string, string> Fingerprints, Dictionary<string, string> Vms) Tokens(int count, string tag = "f")
    {
        var fingerprints = new Dictionary<string, string>(StringComparer.Ordinal);
        var vms = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            fingerprints[$"token-{i}"] = $"{tag}{i}";
            vms[$"{1000 + i}"] = $"token-{i}";
        }

        return (fingerprints, vms);
    }

    private Task<Dictionary<string, string>> ShardAsync(string source, int shard) =>
        fixture.Grains.GetGrain<ITokenIndexGrain>(TokenIndex.ShardKey(source, shard)).GetAsync();

    /// <summary>The version the "tokens" storage holds for each shard's record, by shard (null: no record).</summary>
    private Task<string?[]> StoredVersionsAsync(string source) =>
        Task.WhenAll(Enumerable.Range(0, TokenIndex.Shards).Select(shard => StoredVersionAsync(source, shard)));

    /// <summary>The version the "tokens" storage holds for one shard's record (null: no record).</summary>
    private async Task<string?> StoredVersionAsync(string source, int shard)
    {
        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(TokenStorage.Name);
        var state = new GrainState<TokenIndexState>(new TokenIndexState());
        var grain = fixture.Grains.GetGrain<ITokenIndexGrain>(TokenIndex.ShardKey(source, shard));
        await storage.ReadStateAsync("index", grain.GetGrainId(), state);
        return state.RecordExists ? state.ETag : null;
    }

    [Fact]
    public async Task AnIndex_IsSpreadOverItsShards_AndReadsBackWhole()
    {
        var source = NewSource();
        var index = new TokenIndex(fixture.Grains);
        var (fingerprints, vms) = Tokens(2_000);

        await index.WriteAsync(source, ShardedIndex.From(fingerprints), ShardedIndex.From(vms));

        Assert.Equal(fingerprints, new Dictionary<string, string>(await index.ReadAsync(source)));
        Assert.Equal("token-1234", await index.FindVmAsync(source, "2234"));
        var sizes = await Task.WhenAll(Enumerable.Range(0, TokenIndex.Shards).Select(shard => ShardAsync(source, shard)));
        Assert.Equal(2_000, sizes.Sum(shard => shard.Count));
        // 31 tokens per shard on average: a fair hash keeps every shard far from the whole.
        Assert.All(sizes, shard => Assert.InRange(shard.Count, 1, 100));
        Assert.Empty(await fixture.Grains.GetGrain<ITokenIndexGrain>(source).GetAsync());
    }

    [Fact]
    public async Task ARewrite_StoresOnlyTheShardsThatChanged()
    {
        var source = NewSource();
        var index = new TokenIndex(fixture.Grains);
        var (fingerprints, vms) = Tokens(500);
        await index.WriteAsync(source, ShardedIndex.From(fingerprints), ShardedIndex.From(vms));
        var before = await StoredVersionsAsync(source);

        var changed = new Dictionary<string, string>(fingerprints, StringComparer.Ordinal) { ["token-7"] = "changed" };
        await index.WriteAsync(source, ShardedIndex.From(changed), ShardedIndex.From(vms));

        var after = await StoredVersionsAsync(source);
        var rewritten = Enumerable.Range(0, TokenIndex.Shards).Where(shard => before[shard] != after[shard]).ToList();
        Assert.Equal([TokenIndex.ShardOf("token-7")], rewritten);
        Assert.Equal("changed", (await index.ReadAsync(source))["token-7"]);
    }

    [Fact]
    public async Task AVm_WhoseShardHoldsNoToken_IsStillFound()
    {
        var source = NewSource();
        var index = new TokenIndex(fixture.Grains);
        var vm = Enumerable.Range(1, 1000).Select(i => i.ToString()).First(id => TokenIndex.ShardOf(id) != TokenIndex.ShardOf("lonely"));

        await index.WriteAsync(source, ShardedIndex.From(new Dictionary<string, string> { ["lonely"] = "f" }), ShardedIndex.From(new Dictionary<string, string> { [vm] = "lonely" }));

        Assert.Equal("lonely", await index.FindVmAsync(source, vm));
        Assert.Empty(await ShardAsync(source, TokenIndex.ShardOf(vm)));
    }

    [Fact]
    public async Task AnIndexStoredBeforeTheSplit_IsReadUntilTheFirstWrite_ThenCleared()
    {
        var source = NewSource();
        var index = new TokenIndex(fixture.Grains);
        var unsplit = fixture.Grains.GetGrain<ITokenIndexGrain>(source);
        var (fingerprints, vms) = Tokens(50, "old");
        await unsplit.SetWithVmsAsync(fingerprints, vms);

        Assert.Equal(fingerprints, new Dictionary<string, string>(await index.ReadAsync(source)));
        Assert.Equal("token-3", await index.FindVmAsync(source, "1003"));
        await index.ForgetAsync(source, "token-4");
        Assert.DoesNotContain("token-4", await index.ReadAsync(source));

        var (fresh, freshVms) = Tokens(10, "new");
        await index.WriteAsync(source, ShardedIndex.From(fresh), ShardedIndex.From(freshVms));

        Assert.Equal(fresh, new Dictionary<string, string>(await index.ReadAsync(source)));
        Assert.Empty(await unsplit.GetAsync());
        Assert.Null(await index.FindVmAsync(source, "1030"));
    }

    [Fact]
    public async Task AnEmptyIndex_LeavesNoShardStored()
    {
        var source = NewSource();
        var index = new TokenIndex(fixture.Grains);
        var (fingerprints, vms) = Tokens(100);
        await index.WriteAsync(source, ShardedIndex.From(fingerprints), ShardedIndex.From(vms));

        await index.WriteAsync(source, new ShardedIndex(), new ShardedIndex());

        Assert.Empty(await index.ReadAsync(source));
        var versions = await StoredVersionsAsync(source);
        Assert.All(versions, Assert.Null);
    }

    [Fact]
    public void TheShardOfAKey_IsTheSameInEveryProcessAndRelease()
    {
        // Stored shards are found again by these numbers after a restart or an upgrade: changing the hash would hide
        // every stored index until the next full write. Worked out apart from the code: FNV-1a (32 bits) of the UTF-16
        // code units, modulo 64.
        Assert.Equal([44, 37, 18, 20, 7], new[] { "a", "b", "c", "abiquo-token", "token-0" }.Select(TokenIndex.ShardOf));
    }
}
