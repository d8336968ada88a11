using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>What a target does with each connection.</summary>
internal enum TargetKind
{
    /// <summary>Writes back everything it reads.</summary>
    Echo,

    /// <summary>Reads and counts, never writes.</summary>
    Sink,

    /// <summary>Writes 64 KiB chunks as fast as the connection takes them.</summary>
    Source,

    /// <summary>Sends an RFB 3.8 banner at once, then holds the connection (what a VNC server does first). Behind the
    /// RFB handshake of a password-protected target it sends a Bell (one byte, message type 2) after ServerInit
    /// instead: the first byte after the handshake.</summary>
    Banner,
}

/// <summary>
/// A TCP server on a free loopback port standing in for a VNC server. The bench reads its counters directly, so
/// upload throughput is what arrived at the target, not what the client managed to buffer.
/// </summary>
internal sealed class TargetServer : IAsyncDisposable
{
    public const int ChunkBytes = 64 * 1024;

    public static readonly byte[] RfbBanner = Encoding.ASCII.GetBytes("RFB 003.008\n");

    private readonly Socket _listener;
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly byte[] _sourceChunk;
    private long _bytesReceived;
    private long _accepted;

    private static readonly byte[] RfbBell = [2];

    private readonly string? _vncPassword;

    /// <param name="kind">What the target does with each connection.</param>
    /// <param name="vncPassword">When set, every connection first goes through an RFB 3.8 handshake with VNC
    /// authentication against this password (Targets/RfbServerHandshake.cs), as a password-protected VNC server.</param>
    /// <param name="address">Where to listen: loopback, or the bridge address that simulated hosts reach (silent-host).</param>
    public TargetServer(TargetKind kind, string? vncPassword = null, IPAddress? address = null)
    {
        Kind = kind;
        _vncPassword = vncPassword;
        _sourceChunk = vncPassword is null ? new byte[ChunkBytes] : RawUpdate();
        Random.Shared.NextBytes(_sourceChunk.AsSpan(vncPassword is null ? 0 : RawUpdateHeader));
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        // A deep backlog: the idle workload opens thousands of sessions, and websockify/socat connect in bursts.
        _listener.Listen(4096);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>FramebufferUpdate header (4 bytes) and one rectangle header (12 bytes).</summary>
    private const int RawUpdateHeader = 16;

    public TargetKind Kind { get; }

    /// <summary>What an RFB source sends, again and again: a FramebufferUpdate of one Raw 128x127 rectangle at 32 bits per
    /// pixel (65,040 bytes), a valid server message for the 1024x768 ServerInit, so that a relay that reads the server's
    /// messages (a recorded session) walks it; the pixels are random.</summary>
    private static byte[] RawUpdate()
    {
        const int width = 128, height = 127;
        var update = new byte[RawUpdateHeader + (width * height * 4)];
        update[3] = 1; // type 0, padding, one rectangle
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(update.AsSpan(8), width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(update.AsSpan(10), height);
        return update; // x, y and encoding (Raw, 0) stay 0
    }

    public int Port { get; }

    /// <summary>Bytes read from all connections so far (the sink's measure).</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Connections accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Connections open now.</summary>
    public int Open => _connections.Count;

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // Out of descriptors or a reset in the backlog: the client sees its own failure; keep serving.
                await Task.Delay(10);
                continue;
            }

            connection.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            _connections[connection] = 0;
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        byte[]? buffer = null;
        try
        {
            if (_vncPassword is not null && !await RfbServerHandshake.RunAsync(connection, _vncPassword, _stopping.Token))
            {
                return;
            }

            switch (Kind)
            {
                case TargetKind.Echo:
                    buffer = new byte[ChunkBytes];
                    while (true)
                    {
                        var read = await connection.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        await connection.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
                    }

                case TargetKind.Sink:
                    buffer = new byte[ChunkBytes];
                    while (true)
                    {
                        var read = await connection.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                        if (read == 0)
                        {
                            return;
                        }

                        Interlocked.Add(ref _bytesReceived, read);
                    }

                case TargetKind.Source:
                    // A VNC server reads its client's messages as it sends: the end of the client's stream ends the
                    // connection. Without that read, a send held by a window the relay closed as it ended the session
                    // waits out the kernel's FIN_WAIT_2 timeout (60 s), and the next round waits for this target.
                    _ = CloseOnEndOfStreamAsync(connection);
                    while (true)
                    {
                        await connection.SendAsync(_sourceChunk, SocketFlags.None, _stopping.Token);
                    }

                case TargetKind.Banner:
                    await connection.SendAsync(_vncPassword is null ? RfbBanner : RfbBell, SocketFlags.None, _stopping.Token);
                    // Hold without a buffer until the peer closes: a zero-byte read waits for data or EOF.
                    while (true)
                    {
                        await connection.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, _stopping.Token);
                        var scratch = new byte[256];
                        if (await connection.ReceiveAsync(scratch, SocketFlags.None, _stopping.Token) == 0)
                        {
                            return;
                        }
                    }
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the relay went away: that is how every benchmark connection ends.
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Dispose();
        }
    }

    /// <summary>Reads and drops what the client sends until its stream ends or fails, then closes the connection (which
    /// fails a send still pending on it).</summary>
    private async Task CloseOnEndOfStreamAsync(Socket connection)
    {
        var scratch = new byte[256];
        try
        {
            while (await connection.ReceiveAsync(scratch, SocketFlags.None, _stopping.Token) > 0)
            {
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Ended either way.
        }

        connection.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        foreach (var connection in _connections.Keys)
        {
            connection.Dispose();
        }

        _stopping.Dispose();
    }
}
