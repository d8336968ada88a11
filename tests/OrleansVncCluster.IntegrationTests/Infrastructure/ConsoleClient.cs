using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A WebSocket client session against the relay, with helpers to read until close.</summary>
public sealed class ConsoleClient : IAsyncDisposable
{
    private readonly HttpMessageInvoker? _invoker;

    private ConsoleClient(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        Socket = socket;
        _invoker = invoker;
    }

    public ClientWebSocket Socket { get; }

    /// <summary>
    /// Opens a WebSocket. <paramref name="source"/> binds the client to a loopback address such as 127.0.0.7, so that
    /// HAProxy's <c>balance source</c> sees distinct clients and spreads them over the nodes; <paramref name="configure"/>
    /// sets client options (certificate validation for wss://, say).
    /// </summary>
    public static async Task<ConsoleClient> ConnectAsync(
        Uri uri, string[]? subprotocols = null, string? cookie = null, string? origin = null, IPAddress? source = null,
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
        var invoker = source is null ? null : new HttpMessageInvoker(BoundHandler(source));
        try
        {
            await socket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            invoker?.Dispose();
            throw;
        }

        return new ConsoleClient(socket, invoker);
    }

    private static SocketsHttpHandler BoundHandler(IPAddress source) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var client = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                client.Bind(new IPEndPoint(source, 0));
                await client.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(client, ownsSocket: true);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        },
    };

    /// <summary>
    /// Opens a session that echoes through an echo target, retrying while the token is still unknown to the node
    /// (token files load asynchronously, and another node may be the one writing the token).
    /// </summary>
    public static Task<ConsoleClient> OpenEchoingAsync(RelayNodeProcess node, string token, IPAddress? source = null) =>
        OpenEchoingAsync(node.WebSocketUri(token), $"node {node.Settings.SiloName} relays an echoing session for token {token[..Math.Min(10, token.Length)]}", source);

    /// <summary>Opens an echoing session at <paramref name="uri"/> (a node or HAProxy), retrying until one echoes.</summary>
    public static async Task<ConsoleClient> OpenEchoingAsync(
        Uri uri, string what, IPAddress? source = null, TimeSpan? timeout = null, Action<ClientWebSocketOptions>? configure = null)
    {
        ConsoleClient? opened = null;
        var lastRefusal = "none";
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                opened = await TryOpenEchoingAsync(uri, source, refusal => lastRefusal = refusal, configure);
                return opened is not null;
            }, timeout ?? TimeSpan.FromSeconds(30), what);
        }
        catch (TimeoutException exception)
        {
            // Which refusal kept it from working is what the reader of a failed test needs first.
            throw new TimeoutException($"{exception.Message}; last answer: {lastRefusal}", exception);
        }

        return opened!;
    }

    /// <summary>One attempt: a session whose first 512 bytes come back, or null (refused, closed or no echo).</summary>
    public static async Task<ConsoleClient?> TryOpenEchoingAsync(
        Uri uri, IPAddress? source = null, Action<string>? refused = null, Action<ClientWebSocketOptions>? configure = null)
    {
        ConsoleClient client;
        try
        {
            client = await ConnectAsync(uri, source: source, configure: configure);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            refused?.Invoke($"connect failed: {exception.Message}");
            return null;
        }

        try
        {
            if (await client.EchoesAsync(512))
            {
                return client;
            }

            refused?.Invoke("the echo came back different");
        }
        catch (Exception exception) when (exception is InvalidOperationException or WebSocketException or OperationCanceledException)
        {
            refused?.Invoke(client.Socket.CloseStatus is { } status
                ? $"closed {(int)status} {client.Socket.CloseStatusDescription}"
                : $"{exception.GetType().Name}: {exception.Message}");
        }

        await client.DisposeAsync();
        return null;
    }

    /// <summary>Sends random bytes and reads them back (the target must echo): proof that bytes still flow both ways.</summary>
    public async Task<bool> EchoesAsync(int count = 256)
    {
        var probe = System.Security.Cryptography.RandomNumberGenerator.GetBytes(count);
        await SendAsync(probe);
        var echoed = await ReadExactlyAsync(count, TimeSpan.FromSeconds(5));
        return probe.AsSpan().SequenceEqual(echoed);
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
        _invoker?.Dispose();
    }
}
