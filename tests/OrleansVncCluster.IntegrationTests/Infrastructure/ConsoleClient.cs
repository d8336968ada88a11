using System.Net.WebSockets;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A WebSocket client session against the relay, with helpers to read until close.</summary>
public sealed class ConsoleClient : IAsyncDisposable
{
    private ConsoleClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<ConsoleClient> ConnectAsync(Uri uri, string[]? subprotocols = null, string? cookie = null, string? origin = null,
        Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        foreach (var protocol in subprotocols ?? [])
        {
            socket.Options.AddSubProtocol(protocol);
        }

        if (cookie is not null)
        {
            socket.Options.SetRequestHeader("Cookie", cookie);
        }

        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(uri, timeout.Token);
        return new ConsoleClient(socket);
    }

    /// <summary>
    /// Opens a session that echoes through an echo target, retrying while the token is still unknown to the node
    /// (token files load asynchronously, and another node may be the one writing the token).
    /// </summary>
    public static Task<ConsoleClient> OpenEchoingAsync(RelayNodeProcess node, string token) =>
        OpenEchoingAsync(node.WebSocketUri(token), $"node {node.Settings.SiloName} relays an echoing session for token {token[..Math.Min(10, token.Length)]}");

    /// <summary>As above for any URL (wss:// with <paramref name="configure"/> setting certificate validation, say).</summary>
    public static async Task<ConsoleClient> OpenEchoingAsync(Uri uri, string what, Action<ClientWebSocketOptions>? configure = null)
    {
        ConsoleClient? opened = null;
        await Eventually.HoldsAsync(async () =>
        {
            var client = await ConnectAsync(uri, configure: configure);
            var probe = System.Security.Cryptography.RandomNumberGenerator.GetBytes(512);
            await client.SendAsync(probe);
            try
            {
                var echoed = await client.ReadExactlyAsync(probe.Length, TimeSpan.FromSeconds(5));
                opened = client;
                return probe.SequenceEqual(echoed);
            }
            catch (InvalidOperationException)
            {
                await client.DisposeAsync();
                return false;
            }
        }, TimeSpan.FromSeconds(30), what);
        return opened!;
    }

    /// <summary>Reads until the server closes; returns the close code and reason. Data frames are discarded.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ReadUntilCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (Socket.CloseStatus, Socket.CloseStatusDescription);
            }
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes of binary payload.</summary>
    public async Task<byte[]> ReadExactlyAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var data = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var result = await Socket.ReceiveAsync(data.AsMemory(filled), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"closed after {filled} of {count} bytes: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            }

            filled += result.Count;
        }

        return data;
    }

    public Task SendAsync(ReadOnlyMemory<byte> data) => Socket.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None).AsTask();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "test done", cts.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
        }

        Socket.Dispose();
    }
}
