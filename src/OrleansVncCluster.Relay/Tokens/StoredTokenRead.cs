namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What reading a token's persisted state straight from grain storage gave (<see cref="StoredTokens"/>).</summary>
/// <param name="Succeeded">False when storage could not be read in time (Redis down or slow): the read says nothing.</param>
/// <param name="Entry">The stored entry; null when the token has no stored record (never written, or removed).</param>
/// <param name="State">The whole stored state (the entry and the sessions an administrator closed); null when there is none.</param>
public readonly record struct StoredTokenRead(bool Succeeded, ConsoleTokenEntry? Entry, TokenState? State = null)
{
    /// <summary>The read failed.</summary>
    public static StoredTokenRead Failed => new(false, null);
}
