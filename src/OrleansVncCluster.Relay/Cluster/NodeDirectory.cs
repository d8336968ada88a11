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

    /// <summary>How long one delivery of a revocation to one node may take.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Attempts at delivering one revocation to one node.</summary>
    public const int DeliveryAttempts = 5;

    /// <summary>
    /// The wait before attempt <paramref name="failedAttempt"/> + 1 (0.5, 1, 2, 4 s), or null when the attempts are
    /// spent. Bounded so a dead node costs the directory seconds, and all within the 30 s re-validation interval that
    /// stays the backstop.
    /// </summary>
    public static TimeSpan? RetryDelay(int failedAttempt) =>
        failedAttempt >= DeliveryAttempts ? null : TimeSpan.FromMilliseconds(500 * (1 << (failedAttempt - 1)));
}
