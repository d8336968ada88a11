using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// A kernel pipe that the server-to-browser copy moves the VNC server's bytes through with <c>splice(2)</c>
/// (<c>Relay:Splice</c>): from the VNC socket into the pipe, and from the pipe onto the browser's socket, so that the
/// bytes are never copied into the process and out again. Server-to-browser frames carry no mask (RFC 6455 section
/// 5.1), so the payload goes as it came; only its header is written by the process. Linux only.
/// </summary>
/// <remarks>
/// Pipes are pooled across sessions (<see cref="Rent"/>, <see cref="Return"/>): a session holds one only while it moves
/// bulk data, so an idle console costs no descriptors, and a pipe goes back to the pool only when empty. The sockets are
/// passed as their <see cref="SafeHandle"/>s, which keep a socket from being closed (and its number reused) during a
/// call.
/// </remarks>
internal sealed partial class SplicePipe : IDisposable
{
    /// <summary>The most one frame carries: a pipe's default capacity (16 pages).</summary>
    public const int Capacity = 64 * 1024;

    /// <summary>Pipes kept for reuse at most; beyond that a returned pipe is closed.</summary>
    internal const int MaxPooled = 64;

    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int OCloexec = 0x80000;
    private const int ONonblock = 0x800;
    private const uint SpliceMove = 1;
    private const uint SpliceNonblock = 2;
    private const int MsgDontwait = 0x40;
    private const int MsgNosignal = 0x4000;
    private const int MsgMore = 0x8000;

    private static readonly ConcurrentQueue<SplicePipe> Pool = new();
    private static int _pooled;

    private readonly SafeFileHandle _readEnd;
    private readonly SafeFileHandle _writeEnd;

    private SplicePipe(int readEnd, int writeEnd)
    {
        _readEnd = new SafeFileHandle(readEnd, ownsHandle: true);
        _writeEnd = new SafeFileHandle(writeEnd, ownsHandle: true);
    }

    /// <summary>Bytes in the pipe, moved in from a socket and not yet out.</summary>
    public int Held { get; private set; }

    /// <summary>True where splice(2) exists (Linux).</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>An empty pipe from the pool, or a new one; null when none can be made (the process is out of
    /// descriptors): the caller then copies as it would without splicing.</summary>
    public static SplicePipe? Rent()
    {
        if (Pool.TryDequeue(out var pipe))
        {
            Interlocked.Decrement(ref _pooled);
            return pipe;
        }

        Span<int> ends = stackalloc int[2];
        return Pipe2(ends, OCloexec | ONonblock) == 0 ? new SplicePipe(ends[0], ends[1]) : null;
    }

    /// <summary>Gives an empty pipe back for another session; a pipe still holding bytes is closed instead, so no session
    /// ever reads another's bytes.</summary>
    public static void Return(SplicePipe pipe)
    {
        if (pipe.Held == 0 && Interlocked.Increment(ref _pooled) <= MaxPooled)
        {
            Pool.Enqueue(pipe);
            return;
        }

        if (pipe.Held == 0)
        {
            Interlocked.Decrement(ref _pooled);
        }

        pipe.Dispose();
    }

    /// <summary>
    /// Moves what <paramref name="socket"/> has received, up to <see cref="Capacity"/> bytes, into this empty pipe without
    /// waiting. Returns the count, 0 at the end of the socket's stream, or -1 when nothing is there yet. Throws
    /// <see cref="SocketException"/> for the socket's errors.
    /// </summary>
    public int MoveFrom(Socket socket)
    {
        while (true)
        {
            var moved = Splice(socket.SafeHandle, 0, _writeEnd, 0, Capacity, SpliceMove | SpliceNonblock);
            if (moved >= 0)
            {
                Held = (int)moved;
                return Held;
            }

            var error = Marshal.GetLastPInvokeError();
            if (error == EAGAIN)
            {
                return -1;
            }

            if (error != EINTR)
            {
                throw new SocketException(error);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="header"/> and then what the pipe holds on <paramref name="socket"/> without waiting, the
    /// header marked as having more to follow so that both leave in one segment. Returns how much of the header went
    /// (all of it or the pipe's bytes are still to go). Throws <see cref="SocketException"/> for the socket's errors.
    /// </summary>
    public int MoveTo(Socket socket, ReadOnlySpan<byte> header)
    {
        var headerSent = 0;
        while (headerSent < header.Length)
        {
            var sent = Send(socket.SafeHandle, header[headerSent..], (nuint)(header.Length - headerSent), MsgDontwait | MsgNosignal | MsgMore);
            if (sent < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EAGAIN)
                {
                    return headerSent;
                }

                if (error != EINTR)
                {
                    throw new SocketException(error);
                }

                continue;
            }

            headerSent += (int)sent;
        }

        while (Held > 0)
        {
            var moved = Splice(_readEnd, 0, socket.SafeHandle, 0, (nuint)Held, SpliceMove | SpliceNonblock);
            if (moved < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EAGAIN)
                {
                    break;
                }

                if (error != EINTR)
                {
                    throw new SocketException(error);
                }

                continue;
            }

            Held -= (int)moved;
        }

        return headerSent;
    }

    /// <summary>Reads what the pipe holds into <paramref name="buffer"/> (at least <see cref="Held"/> long), emptying it:
    /// for the rest of a frame the browser's socket had no room for.</summary>
    public int Drain(Span<byte> buffer)
    {
        var total = 0;
        while (Held > 0)
        {
            var read = Read(_readEnd, buffer[total..], (nuint)Held);
            if (read < 0)
            {
                var error = Marshal.GetLastPInvokeError();
                if (error == EINTR)
                {
                    continue;
                }

                throw new IOException($"reading the splice pipe failed (errno {error})");
            }

            total += (int)read;
            Held -= (int)read;
        }

        return total;
    }

    public void Dispose()
    {
        _readEnd.Dispose();
        _writeEnd.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(Span<int> ends, int flags);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint Splice(SafeHandle input, nint inputOffset, SafeHandle output, nint outputOffset, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint Send(SafeHandle socket, ReadOnlySpan<byte> bytes, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(SafeHandle file, Span<byte> buffer, nuint length);
}
