namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The result of a token lookup.</summary>
/// <param name="Status">Found, unknown or unavailable.</param>
/// <param name="Entry">The entry when found.</param>
/// <param name="GrainUnanswered">The token's grain did not answer (its silo is likely dead, not yet declared so): the answer
/// came from this node's stale cache or from storage, and later calls to that grain in the same admission would wait out
/// the same failure.</param>
/// <param name="Stored">The storage read the answer came from, when it came from storage (<see cref="StorageFallback"/>).</param>
public readonly record struct TokenLookup(LookupStatus Status, ConsoleTokenEntry? Entry, bool GrainUnanswered = false, StoredTokenRead? Stored = null);
