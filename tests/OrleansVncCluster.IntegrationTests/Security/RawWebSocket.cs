using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>WebSocket opcodes (RFC 6455 section 5.2).</summary>
public enum Opcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>One frame as read from the server.</summary>
public sealed record Frame(bool Fin, Opcode Opcode, byte[] Payload)
{
    /// <summary>The close code of a close frame, if it has one.</summary>
    public int? CloseCode => Opcode == Opcode.Close && Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;

    /// <summary>The reason of a close frame.</summary>
    public string CloseReason => Opcode == Opcode.Close && Payload.Length > 2 ? Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2) : "";
}

/// <summary>
/// A deliberately unsafe WebSocket client over a raw socket: it writes whatever bytes and frames a test asks for
/// (unmasked, oversized, fragmented control frames, lying lengths), so hostile input can be sent to the node.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _pending = new byte[64 * 1024];
    private int _pendingStart;
    private int _pendingEnd;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The status line of the HTTP answer to the handshake (empty if the server closed without one).</summary>
    public string StatusLine { get; private set; } = "";

    /// <summary>Connects over TCP only.</summary>
    public static async Task<RawWebSocket> ConnectTcpAsync(int port, IPAddress? from = null)
    {
        var tcp = new TcpClient(new IPEndPoint(from ?? IPAddress.Loopback, 0)) { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        return new RawWebSocket(tcp);
    }

    /// <summary>Connects and performs a WebSocket handshake for <paramref name="pathAndQuery"/>; read <see cref="StatusLine"/> for the answer.</summary>
    public static async Task<RawWebSocket> OpenAsync(int port, string pathAndQuery, TimeSpan timeout, IPAddress? from = null)
    {
        var socket = await ConnectTcpAsync(port, from);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await socket.SendRawAsync(Encoding.ASCII.GetBytes(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        await socket.ReadResponseHeadAsync(timeout);
        return socket;
    }

    /// <summary>Writes bytes as they are.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Stops sending (TCP FIN), leaving the read side open for the answer.</summary>
    public void ShutdownSend() => _tcp.Client.Shutdown(SocketShutdown.Send);

    /// <summary>
    /// Writes one frame. Masked unless told otherwise (clients must mask); <paramref name="declaredLength"/> puts a
    /// different length in the header than the payload sent.
    /// </summary>
    public Task SendFrameAsync(Opcode opcode, ReadOnlyMemory<byte> payload, bool fin = true, bool masked = true, long? declaredLength = null) =>
        SendRawAsync(BuildFrame(opcode, payload.Span, fin, masked, declaredLength));

    /// <summary>The bytes of one frame.</summary>
    public static byte[] BuildFrame(Opcode opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, long? declaredLength = null)
    {
        var length = declaredLength ?? payload.Length;
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | (byte)opcode) };
        var maskBit = masked ? 0x80 : 0;
        if (length < 126)
        {
            header.Add((byte)(maskBit | (int)length));
        }
        else if (length <= ushort.MaxValue)
        {
            header.Add((byte)(maskBit | 126));
            header.Add((byte)(length >> 8));
            header.Add((byte)length);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                header.Add((byte)(length >> shift));
            }
        }

        var mask = masked ? RandomNumberGenerator.GetBytes(4) : [];
        header.AddRange(mask);
        var frame = new byte[header.Count + payload.Length];
        header.CopyTo(frame);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header.Count + i] = masked ? (byte)(payload[i] ^ mask[i % 4]) : payload[i];
        }

        return frame;
    }

    /// <summary>A client close frame.</summary>
    public static byte[] CloseFrame(int code, string reason = "")
    {
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return BuildFrame(Opcode.Close, payload);
    }

    /// <summary>Reads the next frame; null when the server closed the connection first.</summary>
    public async Task<Frame?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var head = await ReadExactlyAsync(2, cts.Token);
        if (head is null)
        {
            return null;
        }

        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var extended = await ReadExactlyAsync(2, cts.Token);
            length = extended is null ? -1 : BinaryPrimitives.ReadUInt16BigEndian(extended);
        }
        else if (length == 127)
        {
            var extended = await ReadExactlyAsync(8, cts.Token);
            length = extended is null ? -1 : (long)BinaryPrimitives.ReadUInt64BigEndian(extended);
        }

        if (length < 0 || length > 16 * 1024 * 1024)
        {
            throw new InvalidDataException($"server frame length {length} is not plausible");
        }

        var payload = length == 0 ? [] : await ReadExactlyAsync((int)length, cts.Token);
        return payload is null ? null : new Frame((head[0] & 0x80) != 0, (Opcode)(head[0] & 0x0F), payload);
    }

    /// <summary>Reads frames until a close frame (returned) or the end of the connection (null).</summary>
    public async Task<Frame?> ReadUntilCloseAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no close frame within {timeout}");
            }

            var frame = await ReadFrameAsync(left);
            if (frame is null || frame.Opcode == Opcode.Close)
            {
                return frame;
            }
        }
    }

    /// <summary>True when the server ends the connection (EOF or reset) within <paramref name="timeout"/>; bytes before that are ignored.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var scratch = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(scratch, cts.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reads the HTTP answer's head (up to the blank line) and keeps its status line.</summary>
    public async Task ReadResponseHeadAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var one = await ReadExactlyAsync(1, cts.Token);
            if (one is null)
            {
                break;
            }

            head.Append((char)one[0]);
            if (head.Length > 64 * 1024)
            {
                throw new InvalidDataException("response head longer than 64 KiB");
            }
        }

        var text = head.ToString();
        var end = text.IndexOf("\r\n", StringComparison.Ordinal);
        StatusLine = end < 0 ? text : text[..end];
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }

    private async Task<byte[]?> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_pendingStart == _pendingEnd)
            {
                int read;
                try
                {
                    read = await _stream.ReadAsync(_pending, cancellationToken);
                }
                catch (IOException)
                {
                    return null; // reset by the server
                }

                if (read == 0)
                {
                    return null;
                }

                (_pendingStart, _pendingEnd) = (0, read);
            }

            var take = Math.Min(count - filled, _pendingEnd - _pendingStart);
            _pending.AsSpan(_pendingStart, take).CopyTo(result.AsSpan(filled));
            _pendingStart += take;
            filled += take;
        }

        return result;
    }
}
