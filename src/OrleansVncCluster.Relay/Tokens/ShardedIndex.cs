using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// A map of a source's index (token to fingerprint, or VM id to token) kept in the <see cref="TokenIndex.Shards"/> parts
/// it is stored in: a key lives in part <see cref="TokenIndex.ShardOf"/>.
/// </summary>
/// <remarks>
/// A sync used to merge the 64 shards it read into one dictionary, build its new index as another, and split that again
/// into 64 to write them: at 1,000,000 VMs, some 2,500,000 inserts a sync that only moved entries between dictionaries.
/// Kept in parts, each entry is inserted once, where it is stored, and a part is handed to its shard's grain as it is.
/// </remarks>
public sealed class ShardedIndex : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, string>[] _parts;

    /// <summary>An empty map with room for about <paramref name="capacity"/> keys.</summary>
    public ShardedIndex(int capacity = 0)
    {
        var perPart = capacity <= 0 ? 0 : capacity / TokenIndex.Shards + capacity / TokenIndex.Shards / 8 + 1;
        _parts = new Dictionary<string, string>[TokenIndex.Shards];
        for (var shard = 0; shard < _parts.Length; shard++)
        {
            _parts[shard] = new Dictionary<string, string>(perPart, StringComparer.Ordinal);
        }
    }

    /// <summary>A copy of <paramref name="other"/>.</summary>
    public ShardedIndex(ShardedIndex other)
    {
        _parts = other._parts.Select(part => new Dictionary<string, string>(part, StringComparer.Ordinal)).ToArray();
    }

    /// <summary>Wraps parts as read from the shards, one for each, keyed as <see cref="TokenIndex.ShardOf"/> places them;
    /// they are kept, not copied.</summary>
    internal ShardedIndex(Dictionary<string, string>[] parts)
    {
        if (parts.Length != TokenIndex.Shards)
        {
            throw new ArgumentException($"a sharded index has {TokenIndex.Shards} parts, not {parts.Length}", nameof(parts));
        }

        _parts = parts;
    }

    /// <summary>The entries of <paramref name="map"/>, each put in its part.</summary>
    public static ShardedIndex From(IEnumerable<KeyValuePair<string, string>> map)
    {
        var index = new ShardedIndex(map is IReadOnlyCollection<KeyValuePair<string, string>> sized ? sized.Count : 0);
        foreach (var (key, value) in map)
        {
            index[key] = value;
        }

        return index;
    }

    /// <summary>The part of shard <paramref name="shard"/>: the dictionary itself, which its shard's grain may keep.</summary>
    public Dictionary<string, string> Part(int shard) => _parts[shard];

    /// <inheritdoc />
    public int Count => _parts.Sum(part => part.Count);

    /// <inheritdoc cref="IReadOnlyDictionary{TKey,TValue}.this" />
    public string this[string key]
    {
        get => _parts[TokenIndex.ShardOf(key)][key];
        set => _parts[TokenIndex.ShardOf(key)][key] = value;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public bool Remove(string key) => _parts[TokenIndex.ShardOf(key)].Remove(key);

    /// <inheritdoc />
    public bool ContainsKey(string key) => _parts[TokenIndex.ShardOf(key)].ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _parts[TokenIndex.ShardOf(key)].TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerable<string> Keys => _parts.SelectMany(part => part.Keys);

    /// <inheritdoc />
    public IEnumerable<string> Values => _parts.SelectMany(part => part.Values);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _parts.SelectMany(part => part).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
