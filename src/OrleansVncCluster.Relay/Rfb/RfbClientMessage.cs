namespace OrleansVncCluster.Relay.Rfb;

/// <summary>One browser-to-server message as the policy sees it: its kind, where it goes in the forwarded stream and its
/// sizes, from the header only; for the short input messages (KeyEvent, PointerEvent, QEMU extended key event) and
/// FramebufferUpdateRequest, from the whole message, so a recording can note what the input was.</summary>
public readonly record struct RfbClientMessage
{
    /// <summary>Extended clipboard action bits in the flags word (rfbproto.rst "Extended Clipboard Pseudo-Encoding").</summary>
    public const uint ClipboardCaps = 1u << 24;

    /// <summary>The extended clipboard action that carries clipboard contents.</summary>
    public const uint ClipboardProvide = 1u << 28;

    /// <summary>The message kind.</summary>
    public RfbClientMessageKind Kind { get; init; }

    /// <summary>The message type byte.</summary>
    public byte Type { get; init; }

    /// <summary>Where the message would start in what the filter has forwarded to the server: bytes forwarded before it.</summary>
    public long Position { get; init; }

    /// <summary>The whole message in bytes, header included.</summary>
    public long Length { get; init; }

    /// <summary>For ClientCutText: the text (or extended clipboard payload) length, |length| of the header.</summary>
    public long ClipboardLength { get; init; }

    /// <summary>For ClientCutText: true when the length was negative, so the payload starts with a flags word.</summary>
    public bool IsExtendedClipboard { get; init; }

    /// <summary>For extended ClientCutText: the flags word (action in the top byte, formats in the low bits).</summary>
    public uint ExtendedClipboardFlags { get; init; }

    /// <summary>True for ClientCutText that carries clipboard contents: legacy text, or extended "provide".</summary>
    public bool CarriesClipboardData =>
        Kind == RfbClientMessageKind.ClientCutText && (!IsExtendedClipboard || (ExtendedClipboardFlags & ClipboardProvide) != 0);

    /// <summary>True for the extended clipboard capability announcement, which carries no contents.</summary>
    public bool IsClipboardCapabilities =>
        Kind == RfbClientMessageKind.ClientCutText && IsExtendedClipboard && (ExtendedClipboardFlags & ClipboardCaps) != 0;

    /// <summary>For KeyEvent and the QEMU extended key event: 1 for a key press, 0 for a release; for PointerEvent: the
    /// button mask; for FramebufferUpdateRequest: 1 when incremental.</summary>
    public byte DownOrButtons { get; init; }

    /// <summary>For KeyEvent and the QEMU extended key event: the keysym.</summary>
    public uint KeySym { get; init; }

    /// <summary>For PointerEvent: x.</summary>
    public ushort X { get; init; }

    /// <summary>For PointerEvent: y.</summary>
    public ushort Y { get; init; }
}
