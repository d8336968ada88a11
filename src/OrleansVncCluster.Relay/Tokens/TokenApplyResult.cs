namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What applying a plan did.</summary>
public sealed record TokenApplyResult(int Written, int Removed, int Unchanged, int Failed)
{
    /// <summary>How long writing the source's index took, after the tokens: at 1,000,000 tokens every shard changes
    /// with 1 % of them, and the index is rewritten whole.</summary>
    public TimeSpan IndexWrite { get; init; }
}
