using Orleans.Concurrency;
using OrleansVncCluster.Relay.Limits;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>One console token, keyed by the token text. Persisted in the "tokens" grain storage. It also counts the token's
/// live sessions across the cluster as leases (<see cref="ISessionLeaseHolder"/>, Limits:MaxSessionsPerToken).</summary>
[Alias("vnc.ITokenGrain")]
public interface ITokenGrain : IGrainWithStringKey, ISessionLeaseHolder
{
    /// <summary>The token's entry, or null when the token is unknown.</summary>
    [ReadOnly, Alias("Get")]
    Task<ConsoleTokenEntry?> GetAsync();

    /// <summary>Writes the entry; returns false when it already held the same content (no write happened).
    /// A changed target revokes the live sessions that used the old one.</summary>
    [Alias("Set")]
    Task<bool> SetAsync(ConsoleTokenEntry entry);

    /// <summary>Deletes the token if <paramref name="source"/> wrote it (null: whoever wrote it) and revokes its
    /// live sessions; returns false when there was nothing to delete.</summary>
    [Alias("Remove")]
    Task<bool> RemoveAsync(string? source);
}

/// <summary>What one token source last wrote: token to content fingerprint, so a source can apply only differences.</summary>
[Alias("vnc.ITokenIndexGrain")]
public interface ITokenIndexGrain : IGrainWithStringKey
{
    /// <summary>The tokens this source owns, with their fingerprints.</summary>
    [Alias("Get")]
    Task<Dictionary<string, string>> GetAsync();

    /// <summary>Replaces the index after a successful apply.</summary>
    [Alias("Set")]
    Task SetAsync(Dictionary<string, string> fingerprints);
}

/// <summary>The persisted state of a token grain.</summary>
[GenerateSerializer, Alias("vnc.TokenState")]
public sealed class TokenState
{
    /// <summary>The entry, or null when the token does not exist.</summary>
    [Id(0)] public ConsoleTokenEntry? Entry { get; set; }
}

/// <summary>The persisted state of a token index grain.</summary>
[GenerateSerializer, Alias("vnc.TokenIndexState")]
public sealed class TokenIndexState
{
    /// <summary>Token to fingerprint.</summary>
    [Id(0)] public Dictionary<string, string> Fingerprints { get; set; } = new(StringComparer.Ordinal);
}
