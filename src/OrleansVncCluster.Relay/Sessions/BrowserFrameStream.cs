using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The browser's upgraded connection as its WebSocket sees it, with a second writer beside the WebSocket: the
/// server-to-browser copy, which writes each binary frame where the VNC server's bytes were read, behind a header put
/// in the buffer's headroom. <c>WebSocket.SendAsync</c> copies every payload into a send buffer of its own before writing
/// it: one 64 KiB copy per frame in the heavy direction, which websockify does not pay (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// The WebSocket still does everything else on this connection: it reads, answers pings, sends its keep-alive and the
/// close handshake. Each of its frames is one write (ManagedWebSocket writes header and payload together), so one lock
/// around every write keeps frames whole whoever writes them. A frame the WebSocket writes after its close frame would
/// break the protocol: once a close frame has gone through here, <see cref="WriteBinaryAsync"/> writes nothing more.
/// Server frames carry no mask and this relay negotiates no compression, so a binary frame is a 2-10 byte header and
/// the payload as it came (RFC 6455 section 5.2).
/// </remarks>
public sealed class BrowserFrameStream(Stream upgraded) : AsyncDuplexStream
{
    /// <summary>Room to leave in front of a payload for its frame header: the longest header of an unmasked frame.</summary>
    public const int Headroom = 10;

    private const byte FinalBinary = 0x80 | 0x2;
    private const int OpcodeMask = 0x0F;
    private const int CloseOpcode = 0x8;

    private readonly SemaphoreSlim _writing = new(1, 1);
    private bool _closeSent;

    /// <summary>
    /// Sends <paramref name="count"/> bytes at <paramref name="buffer"/>[<see cref="Headroom"/>..] as one final binary
    /// frame, writing its header into the headroom. False when the WebSocket has sent its close frame: the session's
    /// browser side is over, as a <c>SendAsync</c> after the close would have reported by throwing.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WriteBinaryAsync(byte[] buffer, int count)
    {
        var start = WriteHeader(buffer, count);
        await _writing.WaitAsync();
        try
        {
            if (_closeSent)
            {
                return false;
            }

            await upgraded.WriteAsync(buffer.AsMemory(start, Headroom - start + count));
            return true;
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Writes the header of a final binary frame of <paramref name="count"/> bytes so that it ends at
    /// <see cref="Headroom"/>; returns where it starts.</summary>
    internal static int WriteHeader(byte[] buffer, int count)
    {
        int start;
        if (count <= 125)
        {
            start = Headroom - 2;
            buffer[start + 1] = (byte)count;
        }
        else if (count <= ushort.MaxValue)
        {
            start = Headroom - 4;
            buffer[start + 1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(start + 2), (ushort)count);
        }
        else
        {
            start = 0;
            buffer[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(2), (ulong)count);
        }

        buffer[start] = FinalBinary;
        return start;
    }

    /// <summary>The WebSocket's own writes: one frame each.</summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            if (!buffer.IsEmpty && (buffer.Span[0] & OpcodeMask) == CloseOpcode)
            {
                _closeSent = true;
            }

            await upgraded.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        upgraded.ReadAsync(buffer, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => upgraded.FlushAsync(cancellationToken);

    public override void Flush() => upgraded.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            upgraded.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => upgraded.DisposeAsync();
}
