namespace OrleansVncCluster.Relay.Cluster;

/// <summary>The grain storage provider that holds tokens (Redis, or memory in the embedded mode).</summary>
public static class TokenStorage
{
    /// <summary>Provider name.</summary>
    public const string Name = "tokens";
}
