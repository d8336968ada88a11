namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The result of a token lookup.</summary>
public readonly record struct TokenLookup(LookupStatus Status, ConsoleTokenEntry? Entry);
