using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>What <see cref="BrowserFrameStream.SendReceivedAsync"/> did with the VNC server's socket.</summary>
public enum ReceivedFrame
{
    /// <summary>What the server had sent went to the browser as one binary frame.</summary>
    Sent,

    /// <summary>The server had sent nothing after all: wait for it again.</summary>
    NothingThere,

    /// <summary>The server closed its side.</summary>
    ServerEnded,

    /// <summary>The browser's connection is gone, or the WebSocket has sent its close frame: nothing more goes to it.</summary>
    BrowserGone,
}

/// <summary>
/// The browser's upgraded connection as its WebSocket sees it, with a second writer beside the WebSocket: the
/// server-to-browser copy, which receives the VNC server's bytes straight into Kestrel's output buffer behind room for
/// a frame header, writes the header there and hands the frame over where it lies. <c>WebSocket.SendAsync</c> copies
/// every payload into a send buffer of its own, which Kestrel then copies into its output buffer: two 64 KiB copies per
/// frame in the heavy direction that websockify and socat do not make (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// The WebSocket still does everything else on this connection: it reads, answers pings, sends its keep-alive and the
/// close handshake. Each of its frames is one write (ManagedWebSocket writes header and payload together), so one lock
/// around every write, held from taking Kestrel's buffer to flushing it, keeps frames whole whoever writes them. A frame
/// after the WebSocket's close frame would break the protocol: once a close frame has gone through here,
/// <see cref="SendReceivedAsync"/> writes nothing more. Server frames carry no mask and this relay negotiates no
/// compression, so a binary frame is a 2 or 4 byte header and the payload as it came (RFC 6455 section 5.2); frames are
/// kept under 64 KiB so that the header is never longer.
/// </remarks>
/// <param name="upgraded">The upgraded connection, as Kestrel gave it: what the WebSocket reads and writes.</param>
/// <param name="output">The connection's output as Kestrel's HTTP/1.1 layer writes it, under <paramref name="upgraded"/>:
/// where the server's bytes are received (Sessions/InPlaceFramesUpgrade).</param>
public sealed class BrowserFrameStream(Stream upgraded, PipeWriter output) : Stream
{
    /// <summary>The longest header written: a payload of up to 65,535 bytes has a 4-byte one.</summary>
    internal const int LongHeader = 4;

    private const int ShortHeader = 2;
    private const int LongestShortPayload = 125;
    private const byte FinalBinary = 0x80 | 0x2;
    private const int OpcodeMask = 0x0F;
    private const int CloseOpcode = 0x8;

    private readonly SemaphoreSlim _writing = new(1, 1);
    private bool _closeSent;

    /// <summary>
    /// Receives what the VNC server's (non-blocking) socket holds now into the output buffer and sends it to the browser
    /// as one final binary frame, with the byte count sent. Never waits for the server: the caller waits for data with a
    /// zero-byte receive first, so a quiet console holds no buffer and the lock is never held across a wait for the server.
    /// Socket errors of the server throw.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(ReceivedFrame Result, int Count)> SendReceivedAsync(Socket server)
    {
        await _writing.WaitAsync();
        try
        {
            if (_closeSent)
            {
                return (ReceivedFrame.BrowserGone, 0);
            }

            try
            {
                var count = FrameWhatIsThere(server);
                if (count <= 0)
                {
                    return (count == 0 ? ReceivedFrame.ServerEnded : ReceivedFrame.NothingThere, 0);
                }

                var flushed = await output.FlushAsync();
                return flushed.IsCompleted || flushed.IsCanceled ? (ReceivedFrame.BrowserGone, count) : (ReceivedFrame.Sent, count);
            }
            catch (InvalidOperationException)
            {
                // The connection's output, completed once its request has ended: the browser's side is over.
                return (ReceivedFrame.BrowserGone, 0);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Receives into the output buffer behind room for the longest header and frames what came; returns the
    /// payload's length, 0 when the server has ended, -1 when it had nothing after all.</summary>
    private int FrameWhatIsThere(Socket server)
    {
        var available = server.Available;
        if (available == 0)
        {
            // Woken with nothing to read: the server has ended, or the wake-up had nothing behind it (seen on most sockets
            // whose server spoke first). Ask without taking the output buffer: a block taken and not written stays with the
            // connection until it writes again, which a quiet console may never do.
            Span<byte> probe = stackalloc byte[1];
            var peeked = server.Receive(probe, SocketFlags.Peek, out var probing);
            if (probing != SocketError.Success)
            {
                return probing == SocketError.WouldBlock ? -1 : throw new SocketException((int)probing);
            }

            if (peeked == 0)
            {
                return 0;
            }
        }

        // Room for what has arrived, up to a whole block (Kestrel's are 64 KiB here: Sessions/LargeBlockMemoryPool): the
        // output's current block is used when that fits in what it has left, so small frames queued for a browser that
        // reads slowly share a block, and a new block is started otherwise, so a frame is never cut short by the last
        // one's leftovers (asking only for a few KiB made download on one connection cost 11-25 % more CPU per GiB).
        var memory = output.GetMemory(Math.Clamp(available + LongHeader, LongHeader + 1, RelayOptions.BufferBytes)).Span;
        var room = Math.Min(memory.Length - LongHeader, ushort.MaxValue);
        var read = server.Receive(memory.Slice(LongHeader, room), SocketFlags.None, out var error);
        if (error != SocketError.Success)
        {
            return error == SocketError.WouldBlock ? -1 : throw new SocketException((int)error);
        }

        if (read > 0)
        {
            output.Advance(WriteHeader(memory, read) + read);
        }

        return read;
    }

    /// <summary>Frames the <paramref name="count"/> bytes (at most 65,535) that sit at <paramref name="frame"/>[4..]:
    /// writes the header of a final binary frame at the start, moving a payload short enough for a 2-byte header up to
    /// it; returns the header's length.</summary>
    internal static int WriteHeader(Span<byte> frame, int count)
    {
        frame[0] = FinalBinary;
        if (count <= LongestShortPayload)
        {
            frame.Slice(LongHeader, count).CopyTo(frame[ShortHeader..]);
            frame[1] = (byte)count;
            return ShortHeader;
        }

        frame[1] = 126;
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], checked((ushort)count));
        return LongHeader;
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

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("the browser's connection is written asynchronously only");

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        upgraded.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        upgraded.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => upgraded.Read(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => upgraded.FlushAsync(cancellationToken);

    public override void Flush() => upgraded.Flush();

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

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
