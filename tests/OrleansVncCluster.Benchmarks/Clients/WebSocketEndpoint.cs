using System.Net.Sockets;
using System.Net.WebSockets;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>Sessions as noVNC opens them: ws://HOST:PORT/websockify?token=TOKEN with a browser's headers, binary messages
/// both ways.</summary>
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

    // What Chromium sends beside the handshake's own headers when noVNC opens a console (the Origin is added per
    // connection): a node that keeps the upgrade request's headers for as long as the session lives holds these too.
    private static readonly (string Name, string Value)[] BrowserHeaders =
    [
        ("Pragma", "no-cache"),
        ("Cache-Control", "no-cache"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ];

    public bool UsesTokens => true;

    public async Task<IBenchConnection> ConnectAsync(string token, ConnectionProfile profile, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        foreach (var (name, value) in BrowserHeaders)
        {
            socket.Options.SetRequestHeader(name, value);
        }

        // The console page's own origin, as when the node serves the page.
        socket.Options.SetRequestHeader("Origin", $"http://{host}:{port}");
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
