namespace OrleansVncCluster.Relay.Rfb;

/// <summary>What <see cref="RfbClientMessageFilter.Filter"/> (or <see cref="RfbServerMessageReader.Filter"/>) left in the
/// caller's buffer: the bytes to send on, <c>buffer[Offset..(Offset + Count)]</c>, or the reason the stream cannot go on.</summary>
public readonly record struct RfbFilterResult(int Offset, int Count, string? Error)
{
    /// <summary>True when the peer broke the protocol; nothing more may be forwarded.</summary>
    public bool Failed => Error is not null;
}
