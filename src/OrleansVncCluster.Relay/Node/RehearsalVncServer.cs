using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// The start-up rehearsal's VNC server, on a loopback port while the rehearsal runs: RFB with security type None, a
/// <see cref="Width"/> x <see cref="Height"/> desktop at 32 bits per pixel, and one Raw rectangle of the asked size for
/// each FramebufferUpdateRequest. It reads every client message to its end, so the node may forward the rehearsal's
/// bytes as they come or speak RFB on both sides (its own login, a clipboard policy that parses and filters): the
/// rehearsal runs whichever way the node's settings make it relay.
/// </summary>
internal sealed class RehearsalVncServer : IAsyncDisposable
{
    public const int Width = 128;
    public const int Height = 128;

    private const int BytesPerPixel = 4;
    private const int UpdateHeaderBytes = 4 + 12;

    // 32 bits per pixel, depth 24, little-endian true colour: red, green and blue maxima 255 at shifts 16, 8 and 0.
    private static readonly RfbServerInit ServerInit =
        RfbServerInit.Create(Width, Height, [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], "rehearsal");

    // The server's side of the handshake is the one the relay presents browsers after its own login (security None).
    private static readonly RfbBrowserHandshake Handshake = new(TimeSpan.FromSeconds(10));

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private RehearsalVncServer()
    {
        _listener.Start();
        _serving = ServeAsync(_stop.Token);
    }

    /// <summary>The loopback port it answers on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Starts listening on a free loopback port.</summary>
    public static RehearsalVncServer Start() => new();

    /// <summary>The bytes of the FramebufferUpdate that answers a request for <paramref name="width"/> x
    /// <paramref name="height"/> pixels (within the desktop).</summary>
    public static int UpdateBytes(int width, int height) => UpdateHeaderBytes + (width * height * BytesPerPixel);

    /// <summary>Stops listening and ends every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving;
        _stop.Dispose();
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(cancellationToken);
                connections.RemoveAll(connection => connection.IsCompleted);
                connections.Add(AnswerAsync(client, cancellationToken));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped: the rehearsal is over.
        }

        await Task.WhenAll(connections);
    }

    private static async Task AnswerAsync(Socket client, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            if (!(await Handshake.RunAsync(stream, ServerInit, cancellationToken)).Succeeded)
            {
                return; // The rehearsal's worker on the other side of the node reports why.
            }

            var scratch = new byte[20];
            var update = new byte[UpdateBytes(Width, Height)];
            while (await stream.ReadAsync(scratch.AsMemory(0, 1), cancellationToken) == 1)
            {
                if (!await AnswerMessageAsync(stream, scratch, update, cancellationToken))
                {
                    return;
                }
            }
        }
        catch (Exception)
        {
            // The relay closed first, the rehearsal ran out of time, or a message made no sense: the rehearsal's worker
            // on the other side of the node sees the session end and says why. Nothing here may throw past the server.
        }
    }

    /// <summary>Reads the rest of the message whose type is in <paramref name="scratch"/>[0] and answers an update request;
    /// false for a type this server does not know (it closes: only the rehearsal talks to it).</summary>
    private static async Task<bool> AnswerMessageAsync(NetworkStream stream, byte[] scratch, byte[] update, CancellationToken cancellationToken)
    {
        switch (scratch[0])
        {
            case 0: // SetPixelFormat
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 19), cancellationToken);
                return true;
            case 2: // SetEncodings
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 3), cancellationToken);
                await RfbWire.SkipAsync(stream, 4L * BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(2)), cancellationToken);
                return true;
            case 3: // FramebufferUpdateRequest: one Raw rectangle of the asked size, within the desktop
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 9), cancellationToken);
                var width = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(6)), Width);
                var height = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(8)), Height);
                await stream.WriteAsync(Update(update, width, height), cancellationToken);
                return true;
            case 4: // KeyEvent
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 7), cancellationToken);
                return true;
            case 5: // PointerEvent
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 5), cancellationToken);
                return true;
            case 6: // ClientCutText; a negative length is the extended clipboard's, of that many bytes
                await stream.ReadExactlyAsync(scratch.AsMemory(1, 7), cancellationToken);
                await RfbWire.SkipAsync(stream, Math.Abs((long)BinaryPrimitives.ReadInt32BigEndian(scratch.AsSpan(4))), cancellationToken);
                return true;
            default:
                return false;
        }
    }

    /// <summary>A FramebufferUpdate of one Raw rectangle at the origin; the pixels are whatever the buffer holds.</summary>
    private static ReadOnlyMemory<byte> Update(byte[] update, int width, int height)
    {
        var span = update.AsSpan();
        span[..4].Clear(); // type 0, padding
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], 1); // one rectangle
        span.Slice(4, 4).Clear(); // x, y
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], (ushort)height);
        span.Slice(12, 4).Clear(); // Raw
        return update.AsMemory(0, UpdateBytes(width, height));
    }
}
