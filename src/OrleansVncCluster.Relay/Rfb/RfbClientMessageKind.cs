namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The browser-to-server messages the relay knows (RFC 6143 section 7.5 and the extensions of rfbproto.rst
/// that noVNC sends); see docs/RFB.md for their sizes.</summary>
public enum RfbClientMessageKind
{
    /// <summary>Type 0, 20 bytes.</summary>
    SetPixelFormat,

    /// <summary>Type 2, 4 + 4n bytes.</summary>
    SetEncodings,

    /// <summary>Type 3, 10 bytes.</summary>
    FramebufferUpdateRequest,

    /// <summary>Type 4, 8 bytes.</summary>
    KeyEvent,

    /// <summary>Type 5, 6 bytes.</summary>
    PointerEvent,

    /// <summary>Type 6, 8 + |length| bytes; a negative length is the extended clipboard.</summary>
    ClientCutText,

    /// <summary>Type 150, 10 bytes.</summary>
    EnableContinuousUpdates,

    /// <summary>Type 248, 9 + length bytes (length at most 64).</summary>
    ClientFence,

    /// <summary>Type 250, 4 bytes: shutdown, reboot or reset the machine.</summary>
    Xvp,

    /// <summary>Type 251, 8 + 16n bytes.</summary>
    SetDesktopSize,

    /// <summary>Type 253, 4 + length bytes (General Input Interface).</summary>
    Gii,

    /// <summary>Type 255 subtype 0, 12 bytes.</summary>
    QemuExtendedKeyEvent,

    /// <summary>Type 255 subtype 1: 4 bytes, or 10 for set-format.</summary>
    QemuAudio,
}
