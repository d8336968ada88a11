using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>A source's index kept in its stored parts behaves as one map, each key in the part its shard stores.</summary>
public sealed class ShardedIndexTests
{
    private static Dictionary<string, string> Sample(int count) =>
        Enumerable.Range(0, count).ToDictionary(i => $"token-{i}", i => $"fp-{i}", StringComparer.Ordinal);

    [Fact]
    public void AMap_ReadsBackAsItWasGiven_EachKeyInItsShardsPart()
    {
        var plain = Sample(5_000);

        var index = ShardedIndex.From(plain);

        Assert.Equal(plain.Count, index.Count);
        Assert.Equal(plain, new Dictionary<string, string>(index));
        Assert.Equal(plain.Keys.Order(StringComparer.Ordinal), index.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(plain.Values.Order(StringComparer.Ordinal), index.Values.Order(StringComparer.Ordinal));
        for (var shard = 0; shard < TokenIndex.Shards; shard++)
        {
            Assert.All(index.Part(shard).Keys, key => Assert.Equal(shard, TokenIndex.ShardOf(key)));
            Assert.NotEmpty(index.Part(shard));
        }

        Assert.True(index.TryGetValue("token-42", out var value));
        Assert.Equal("fp-42", value);
        Assert.Equal("fp-7", index["token-7"]);
        Assert.False(index.ContainsKey("token-5000"));
        Assert.False(index.TryGetValue("token-5000", out _));
        Assert.Throws<KeyNotFoundException>(() => index["token-5000"]);
    }

    [Fact]
    public void SettingAndRemoving_ChangeOnlyTheKeyGiven()
    {
        var index = ShardedIndex.From(Sample(100));

        index["token-3"] = "new";
        index["extra"] = "x";

        Assert.True(index.Remove("token-4"));
        Assert.False(index.Remove("token-4"));
        Assert.Equal(100, index.Count);
        Assert.Equal("new", index["token-3"]);
        Assert.Equal("x", index.Part(TokenIndex.ShardOf("extra"))["extra"]);
        Assert.False(index.ContainsKey("token-4"));
        Assert.Equal("fp-5", index["token-5"]);
    }

    [Fact]
    public void ACopy_IsIndependentOfItsOriginal()
    {
        var original = ShardedIndex.From(Sample(100));

        var copy = new ShardedIndex(original);
        copy["token-1"] = "changed";
        copy.Remove("token-2");

        Assert.Equal("fp-1", original["token-1"]);
        Assert.True(original.ContainsKey("token-2"));
        Assert.Equal(99, copy.Count);
        Assert.Throws<ArgumentException>(() => new ShardedIndex(new Dictionary<string, string>[3]));
    }
}
