namespace OrleansVncCluster.Relay.Rfb;

/// <summary>What happens to one RFB message the relay parses.</summary>
public enum RfbMessageVerdict
{
    /// <summary>The message goes to the VNC server unchanged.</summary>
    Forward,

    /// <summary>The message is skipped and counted; the VNC server never sees it.</summary>
    Drop,

    /// <summary>For a browser's FramebufferUpdateRequest: forwarded as a full (non-incremental) request, so the update that
    /// answers it repaints the whole rectangle asked for (a recording's keyframe). Any other message is forwarded
    /// unchanged.</summary>
    ForwardAsFullUpdate,
}
