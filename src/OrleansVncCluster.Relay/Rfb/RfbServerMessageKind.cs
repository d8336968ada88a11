namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The server-to-client messages the relay can find the boundaries of (RFC 6143 section 7.6 and the extensions
/// of rfbproto.rst that noVNC understands); see docs/RFB.md for their sizes.</summary>
public enum RfbServerMessageKind
{
    /// <summary>Type 0: 4 bytes, then rectangles whose sizes depend on their encodings and the pixel format.</summary>
    FramebufferUpdate,

    /// <summary>Type 1, 6 + 6n bytes.</summary>
    SetColourMapEntries,

    /// <summary>Type 2, 1 byte.</summary>
    Bell,

    /// <summary>Type 3, 8 + |length| bytes; a negative length is the extended clipboard.</summary>
    ServerCutText,

    /// <summary>Type 150, 1 byte.</summary>
    EndOfContinuousUpdates,

    /// <summary>Type 248, 9 + length bytes (length at most 64).</summary>
    ServerFence,

    /// <summary>Type 250, 4 bytes (xvp FAIL or INIT).</summary>
    Xvp,

    /// <summary>Type 253, 4 + length bytes (General Input Interface).</summary>
    Gii,

    /// <summary>Type 255 subtype 1: 4 bytes, or 8 + length for audio data.</summary>
    QemuAudio,
}
