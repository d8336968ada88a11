using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// The start-up rehearsal's VNC server, on a loopback port while the rehearsal runs: RFB with security type None, a
/// <see cref="Width"/> x <see cref="Height"/> desktop at 32 bits per pixel, and one Raw rectangle of the asked size for
/// each FramebufferUpdateRequest. It reads every client message to its end (measured by the relay's own parser,
/// <see cref="RfbClientMessageFilter"/>), so the node may forward the rehearsal's bytes as they come or speak RFB on both
/// sides (its own login, a clipboard policy that parses and filters): the rehearsal runs whichever way the node's
/// settings make it relay.
/// </summary>
internal sealed class RehearsalVncServer : IAsyncDisposable
{
    public const int Width = 128;
    public const int Height = 128;

    private const int BytesPerPixel = 4;
    private const int UpdateHeaderBytes = 4 + 12;

    private static readonly RfbServerInit ServerInit = RfbServerInit.Create(Width, Height, RfbFramebufferCapture.TrueColour32, "rehearsal");

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

            // The client's messages are read a byte at a time until the relay's own parser knows their length, so the
            // bytes come out of a buffer; updates are written to the connection itself.
            var reader = new BufferedStream(stream);
            var header = new byte[RfbClientMessageFilter.MaxHeader];
            var update = new byte[UpdateBytes(Width, Height)];
            while (await reader.ReadAsync(header.AsMemory(0, 1), cancellationToken) == 1)
            {
                var read = 1;
                RfbClientMessageFilter.Measure measured;
                RfbClientMessage message;
                while ((measured = RfbClientMessageFilter.MeasureMessage(header.AsSpan(0, read), out message, out _)) == RfbClientMessageFilter.Measure.NeedMore)
                {
                    await reader.ReadExactlyAsync(header.AsMemory(read++, 1), cancellationToken);
                }

                if (measured != RfbClientMessageFilter.Measure.Complete)
                {
                    return; // A message the relay would refuse too: only the rehearsal talks to this server.
                }

                await RfbWire.SkipAsync(reader, message.Length - read, cancellationToken);
                if (message.Kind == RfbClientMessageKind.FramebufferUpdateRequest)
                {
                    // Measured whole: one Raw rectangle of the asked size, within the desktop.
                    var width = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(6)), Width);
                    var height = Math.Min((int)BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(8)), Height);
                    await stream.WriteAsync(Update(update, width, height), cancellationToken);
                }
            }
        }
        catch (Exception)
        {
            // The relay closed first, the rehearsal ran out of time, or a message made no sense: the rehearsal's worker
            // on the other side of the node sees the session end and says why. Nothing here may throw past the server.
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
