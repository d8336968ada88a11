using System.Net.Sockets;
using System.Net.WebSockets;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>Sessions as noVNC opens them: ws://HOST:PORT/websockify?token=TOKEN, binary messages both ways.</summary>
/// <param name="host">127.0.0.1, or a simulated host's address (the silent-host workload).</param>
internal sealed class WebSocketEndpoint(int port, string host = "127.0.0.1") : IBenchEndpoint
{
    // One handler for every session: a fresh one per connect would measure the bench's own set-up, not the peer's.
    // No proxy: the machine's proxy settings must never sit between the bench and a loopback peer.
    private static readonly HttpMessageInvoker Invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    public bool UsesTokens => true;

    public async Task<IBenchConnection> ConnectAsync(string token, ConnectionProfile profile, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (profile == ConnectionProfile.Bulk)
        {
            socket.Options.SetBuffer(64 * 1024, 64 * 1024);
        }

        try
        {
            await socket.ConnectAsync(new Uri($"ws://{host}:{port}/websockify?token={Uri.EscapeDataString(token)}"), Invoker, cancellationToken);
            return new WebSocketConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class WebSocketConnection(ClientWebSocket socket) : IBenchConnection
    {
        private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

        public ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken) =>
            socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);

        public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return 0;
                }

                // Empty binary messages are legal; they carry nothing to count.
                if (result.Count > 0)
                {
                    return result.Count;
                }
            }
        }

        public async Task CloseAsync()
        {
            using var deadline = new CancellationTokenSource(CloseTimeout);
            try
            {
                if (socket.State == WebSocketState.Open)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
            {
                socket.Abort();
            }
            finally
            {
                socket.Dispose();
            }
        }

        public void Abort()
        {
            socket.Abort();
            socket.Dispose();
        }

        public void Dispose() => socket.Dispose();
    }
}
