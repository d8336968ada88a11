namespace OrleansVncCluster.Relay.Rfb;

/// <summary>What <see cref="RfbClientMessageFilter.Filter"/> left in the caller's buffer: the bytes to send to the VNC
/// server, <c>buffer[Offset..(Offset + Count)]</c>, or the reason the stream cannot go on.</summary>
public readonly record struct RfbFilterResult(int Offset, int Count, string? Error)
{
    /// <summary>True when the browser broke the protocol; nothing more may be forwarded.</summary>
    public bool Failed => Error is not null;
}
