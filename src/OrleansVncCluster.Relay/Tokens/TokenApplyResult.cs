namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What applying a plan did.</summary>
public sealed record TokenApplyResult(int Written, int Removed, int Unchanged, int Failed);
