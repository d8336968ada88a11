using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The browser's connection after <see cref="UpgradeHandoff.AcceptWebSocketAsync"/>: a stream straight on the
/// connection's transport pipes, which is all a WebSocket needs of it. A read of no bytes waits until data is there
/// without taking any, so an idle console holds no buffer (the transport's receive loop also waits with a zero-byte
/// read). With a <c>direct</c> socket (<see cref="UpgradeHandoff.SendsDirect"/>) writes go on the socket itself, neither
/// copied into the output pipe nor handed to Kestrel's send loop; reads still come through the pipe.
/// </summary>
/// <remarks>
/// Disposing it ends nothing by itself: the session's end returns to <see cref="UpgradeHandoff"/>'s middleware, which
/// ends the connection after what was written has gone. Only a WebSocket that was aborted (a browser that stopped
/// reading, a keep-alive that timed out) aborts the connection at once, as ASP.NET Core's WebSocket middleware does for
/// the same case.
/// </remarks>
public sealed class TransportStream(ConnectionContext connection, Socket? direct = null) : AsyncDuplexStream
{
    private readonly PipeReader _input = connection.Transport.Input;
    private readonly PipeWriter _output = connection.Transport.Output;

    /// <summary>The WebSocket over this stream, so that its abort aborts the connection.</summary>
    public WebSocket? WebSocket { get; set; }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _input.AdvanceTo(data.GetPosition(count));
                return count;
            }

            _input.AdvanceTo(data.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return 0;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (direct is not null)
        {
            await SendAsync(direct, buffer, cancellationToken);
            return;
        }

        var flushed = await _output.WriteAsync(buffer, cancellationToken);
        if (flushed.IsCompleted)
        {
            throw new IOException("the browser's connection is closed");
        }
    }

    /// <summary>
    /// Sends all of <paramref name="bytes"/> on a non-blocking <paramref name="socket"/>: first without waiting, which
    /// is all most writes need, then what did not fit once there is room. The socket's asynchronous send keeps its
    /// event args with the socket for the socket's life once used: a console that never fills its send buffer (an idle
    /// one) never makes them.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal static async ValueTask SendAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var sent = socket.Send(bytes.Span, SocketFlags.None, out var error);
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            throw new SocketException((int)error);
        }

        for (bytes = bytes[sent..]; !bytes.IsEmpty; bytes = bytes[sent..])
        {
            sent = await socket.SendAsync(bytes, SocketFlags.None, cancellationToken);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && WebSocket?.State == WebSocketState.Aborted)
        {
            connection.Abort(new ConnectionAbortedException("the console's WebSocket was aborted"));
        }

        base.Dispose(disposing);
    }
}
