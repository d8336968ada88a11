namespace OrleansVncCluster.Relay.Rfb;

/// <summary>What happens to one browser-to-server message.</summary>
public enum RfbMessageVerdict
{
    /// <summary>The message goes to the VNC server unchanged.</summary>
    Forward,

    /// <summary>The message is skipped and counted; the VNC server never sees it.</summary>
    Drop,
}
