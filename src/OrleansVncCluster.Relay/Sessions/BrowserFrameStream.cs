using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
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
/// <para>
/// With the browser's socket at hand (<paramref name="spliceTo"/>: direct sends, <c>Relay:Splice</c>), a frame can also
/// be moved from the VNC socket to the browser's in the kernel (<see cref="SpliceFrameAsync"/>), under the same lock.
/// </para>
/// </remarks>
public sealed class BrowserFrameStream(Stream upgraded, Socket? spliceTo = null) : AsyncDuplexStream
{
    /// <summary>Room to leave in front of a payload for its frame header: the longest header of an unmasked frame.</summary>
    public const int Headroom = 10;

    private const byte FinalBinary = 0x80 | 0x2;
    private const int OpcodeMask = 0x0F;
    private const int CloseOpcode = 0x8;

    private readonly SemaphoreSlim _writing = new(1, 1);
    private bool _closeSent;
    private byte[]? _spliceHeader;

    /// <summary>What <see cref="SpliceFrameAsync"/> did.</summary>
    public enum Spliced
    {
        /// <summary>A frame of the count returned went to the browser.</summary>
        Frame,

        /// <summary>The VNC server's socket had nothing to read: wait until it has.</summary>
        NothingThere,

        /// <summary>The VNC server ended its stream.</summary>
        EndOfStream,

        /// <summary>The browser's side is over: its socket failed, or the WebSocket sent its close frame.</summary>
        BrowserGone,

        /// <summary>No pipe could be had (out of descriptors): copy this frame instead.</summary>
        NoPipe,
    }

    /// <summary>True when frames can be moved to the browser's socket in the kernel (<see cref="SpliceFrameAsync"/>).</summary>
    public bool CanSplice => spliceTo is not null;

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

    /// <summary>
    /// Moves what the VNC server's <paramref name="source"/> has received, up to <see cref="SplicePipe.Capacity"/> bytes, to
    /// the browser as one final binary frame through a kernel pipe (<see cref="SplicePipe"/>), without waiting for the
    /// server. When the browser's socket has no room for all of it, the rest is copied out of the pipe and sent once
    /// there is room, the lock held so that the frame stays whole. Throws <see cref="SocketException"/> for the VNC
    /// socket's errors; the browser's become <see cref="Spliced.BrowserGone"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(Spliced Result, int Count)> SpliceFrameAsync(Socket source)
    {
        var browser = spliceTo ?? throw new InvalidOperationException("this connection has no socket to splice to");
        if (SplicePipe.Rent() is not { } pipe)
        {
            return (Spliced.NoPipe, 0);
        }

        try
        {
            var count = pipe.MoveFrom(source);
            if (count <= 0)
            {
                return (count == 0 ? Spliced.EndOfStream : Spliced.NothingThere, 0);
            }

            await _writing.WaitAsync();
            try
            {
                if (_closeSent)
                {
                    return (Spliced.BrowserGone, 0);
                }

                var header = _spliceHeader ??= new byte[Headroom];
                var start = WriteHeader(header, count);
                var headerSent = pipe.MoveTo(browser, header.AsSpan(start));
                if (start + headerSent < Headroom || pipe.Held > 0)
                {
                    await SendRestAsync(browser, header.AsSpan(start + headerSent), pipe);
                }

                return (Spliced.Frame, count);
            }
            catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
            {
                return (Spliced.BrowserGone, 0);
            }
            finally
            {
                _writing.Release();
            }
        }
        finally
        {
            SplicePipe.Return(pipe);
        }
    }

    /// <summary>The rest of a spliced frame, when the browser's socket was full: copied out of the pipe and sent once
    /// there is room.</summary>
    private static ValueTask SendRestAsync(Socket browser, ReadOnlySpan<byte> headerLeft, SplicePipe pipe)
    {
        var length = headerLeft.Length + pipe.Held;
        var rest = ArrayPool<byte>.Shared.Rent(length);
        headerLeft.CopyTo(rest);
        pipe.Drain(rest.AsSpan(headerLeft.Length));
        return SendAndReturnAsync(browser, rest, length);

        static async ValueTask SendAndReturnAsync(Socket browser, byte[] rest, int length)
        {
            try
            {
                await TransportStream.SendAsync(browser, rest.AsMemory(0, length), CancellationToken.None);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rest);
            }
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
