namespace OrleansVncCluster.Relay.Rfb;

/// <summary>One server-to-client message as a policy sees it: its kind, where it starts and its sizes, from its header
/// only.</summary>
public readonly record struct RfbServerMessage
{
    /// <summary>The message kind.</summary>
    public RfbServerMessageKind Kind { get; init; }

    /// <summary>The message type byte.</summary>
    public byte Type { get; init; }

    /// <summary>Where the message starts: bytes of the server's stream (after ServerInit) before it.</summary>
    public long Position { get; init; }

    /// <summary>Where the message starts in what the reader has forwarded: <see cref="Position"/> less the bytes of the
    /// messages dropped before it (where a recording of the forwarded stream finds it).</summary>
    public long Forwarded { get; init; }

    /// <summary>The screen size the last DesktopSize or ExtendedDesktopSize rectangle before this message gave (0 by 0
    /// while the server has sent none: the ServerInit's size holds). A recording's keyframe keeps it, so playback that
    /// starts after a resize greets the browser with the size the screen had then.</summary>
    public (ushort Width, ushort Height) DesktopSize { get; init; }

    /// <summary>The whole message in bytes, header included; -1 for a FramebufferUpdate, whose length is only known at
    /// its end.</summary>
    public long Length { get; init; }

    /// <summary>For ServerCutText: the text (or extended clipboard payload) length, |length| of the header.</summary>
    public long ClipboardLength { get; init; }

    /// <summary>For ServerCutText: true when the length was negative, so the payload starts with a flags word.</summary>
    public bool IsExtendedClipboard { get; init; }

    /// <summary>For extended ServerCutText: the flags word (action in the top byte, formats in the low bits).</summary>
    public uint ExtendedClipboardFlags { get; init; }

    /// <summary>True for ServerCutText that carries clipboard contents: legacy text, or extended "provide". The other
    /// extended actions (caps, request, peek, notify) carry none.</summary>
    public bool CarriesClipboardData =>
        Kind == RfbServerMessageKind.ServerCutText && (!IsExtendedClipboard || (ExtendedClipboardFlags & RfbClientMessage.ClipboardProvide) != 0);
}
