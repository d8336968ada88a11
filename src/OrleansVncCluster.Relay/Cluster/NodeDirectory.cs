namespace OrleansVncCluster.Relay.Cluster;

/// <summary>Constants of the node directory.</summary>
public static class NodeDirectory
{
    /// <summary>The directory is a cluster singleton under this key.</summary>
    public const long Key = 0;

    /// <summary>How often each node re-registers.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>A node not heard from for this long is dropped.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(20);
}
