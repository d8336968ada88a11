using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>A real Kestrel on loopback with the handoff on its listener, and a WebSocket echo as the session.</summary>
public sealed class UpgradeHandoffTests : IAsyncLifetime
{
    private const int FloodMessages = 12;
    private const int FloodMessageSize = 4096;

    private WebApplication? _app;
    private Uri _url = null!;
    private WeakReference? _request;
    private WeakReference? _http1;
    private bool? _sendsDirect;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public void AcceptKey_IsRfc6455sOwnExample()
    {
        // RFC 6455 section 1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", UpgradeHandoff.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASession_RunsOnAfterItsRequestReturned_AndKestrelsHttpObjectsAreCollected(bool directSends)
    {
        await StartAsync(maxUpgraded: null, directSends);
        using var client = await ConnectAsync();
        Assert.Equal("one", await EchoAsync(client, "one"));

        // The request returned when the session was handed off: nothing should hold the request or Kestrel's HTTP/1.1
        // connection any more, while the session still answers.
        for (var attempt = 0; attempt < 20 && (_request!.IsAlive || _http1!.IsAlive); attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            await Task.Delay(50);
        }

        Assert.False(_request!.IsAlive, "the handed-off request's HttpContext is still reachable");
        Assert.False(_http1!.IsAlive, "Kestrel's HTTP/1.1 connection is still reachable");
        Assert.Equal("two", await EchoAsync(client, "two"));
        Assert.Equal("client", await CloseAsync(client, "client"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheSessionsLastWords_ReachTheBrowserBeforeTheConnectionCloses(bool directSends)
    {
        await StartAsync(maxUpgraded: null, directSends);
        using var client = await ConnectAsync();

        // "bye" asks the session to end by itself: it sends one last message and its close frame, then returns.
        await client.SendAsync(Encoding.UTF8.GetBytes("bye"), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[64];
        var last = await client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("last", Encoding.UTF8.GetString(buffer, 0, last.Count));

        // Recorded by the request before it handed the session off, so before the session's first word.
        Assert.Equal(directSends, _sendsDirect);
        var close = await client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal("session over", close.CloseStatusDescription);
    }

    [Fact]
    public async Task TheListener_CountsUpgradedConnectionsToTheirClose()
    {
        await StartAsync(maxUpgraded: 1);
        using var first = await ConnectAsync();
        Assert.Equal("first", await EchoAsync(first, "first"));

        // Kestrel no longer counts the first once its request returned; the listener still does.
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync());
        Assert.Contains("503", refused.Message);

        await CloseAsync(first, "done");
        await EchoOnceAdmittedAsync(within: TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ABrowserThatStopsReading_HasItsConnectionCutAtTheCloseBudget()
    {
        await StartAsync(maxUpgraded: 1);

        // A browser that asks for more than the buffers between it and the session hold, and does not read: the
        // session ends, but what it wrote cannot all go, so the connection would stay open until the browser reads.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, _url.Port);
        await HandshakeAsync(stalled);
        await stalled.SendAsync(MaskedFrame("flood"));
        await Assert.ThrowsAsync<WebSocketException>(() => ConnectAsync());

        // The listener gives its count back once the close budget is spent.
        await EchoOnceAdmittedAsync(within: TimeSpan.FromSeconds(15));

        // The connection was cut: the browser, reading now, gets what its buffers held and the end, not the rest.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[65536];
        var received = 0;
        try
        {
            int count;
            while ((count = await stalled.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
            {
                received += count;
            }
        }
        catch (SocketException reset) when (reset.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        Assert.InRange(received, 1, FloodMessages * FloodMessageSize - 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMessageLargerThanTheSocketsSendBuffer_ArrivesWholeAndInOrder(bool directSends)
    {
        await StartAsync(maxUpgraded: null, directSends);
        using var client = await ConnectAsync();
        await client.SendAsync(Encoding.UTF8.GetBytes("big"), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[16384];
        WebSocketReceiveResult part;
        do
        {
            part = await client.ReceiveAsync(buffer, deadline.Token);
            received.Write(buffer, 0, part.Count);
        }
        while (!part.EndOfMessage);

        Assert.Equal(BigMessage(), received.ToArray());
        Assert.Equal("after", await EchoAsync(client, "after"));
    }

    [Fact]
    public async Task WithDirectSends_AConnectionThatAnsweredARequestBefore_UpgradesThroughThePipe_InOrder()
    {
        await StartAsync(maxUpgraded: null, directSends: true);

        // A plain request and the upgrade in one write: Kestrel answers the first into its pipe and may not have sent
        // it when the 101 is written, so the 101 and the session's frames must follow it through the pipe.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _url.Port);
        var plain = $"GET /plain HTTP/1.1\r\nHost: {_url.Authority}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(plain + UpgradeRequest()).Concat(MaskedFrame("after")).ToArray());

        var received = await ReceiveUntilAsync(socket, "after");
        var text = Encoding.ASCII.GetString(received);
        var ok = text.IndexOf("HTTP/1.1 200", StringComparison.Ordinal);
        var upgraded = text.IndexOf("HTTP/1.1 101", StringComparison.Ordinal);
        Assert.True(ok >= 0 && upgraded > ok, $"the plain answer, then the 101, then the echo; got: {text}");
        Assert.False(_sendsDirect);
    }

    private async Task StartAsync(long? maxUpgraded, bool directSends = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Use(UpgradeHandoff.Listener(maxUpgraded, directSends))));
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _url = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal));
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await context.Response.WriteAsync("plain");
            return;
        }

        var handoff = UpgradeHandoff.Of(context)!;
        WebSocket socket;
        try
        {
            (socket, _) = await handoff.AcceptWebSocketAsync(context, context.Features.Get<IHttpUpgradeFeature>()!, subProtocol: null,
                keepAliveInterval: TimeSpan.Zero, keepAliveTimeout: Timeout.InfiniteTimeSpan, inPlaceFrames: true);
        }
        catch (InvalidOperationException)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        _sendsDirect = handoff.SendsDirect;
        _request = new WeakReference(context);
        _http1 = new WeakReference(context.Features.Get<IHttpUpgradeFeature>());
        handoff.ContinueWith(connection => EchoUntilClosedAsync(socket, connection));
    }

    private static async Task EchoUntilClosedAsync(WebSocket socket, ConnectionContext connection)
    {
        using (socket)
        {
            var buffer = new byte[1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(received.CloseStatus!.Value, received.CloseStatusDescription, CancellationToken.None);
                    return;
                }

                if (Encoding.UTF8.GetString(buffer, 0, received.Count) == "flood")
                {
                    // More than a stalled browser's buffers hold (its receive buffer and this side's, both small), less
                    // than Kestrel's output pipe takes before a write waits: the session's writes return, the bytes stay.
                    connection.Features.Get<IConnectionSocketFeature>()!.Socket.SendBufferSize = 4096;
                    for (var i = 0; i < FloodMessages; i++)
                    {
                        await socket.SendAsync(new byte[FloodMessageSize], WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    }

                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "flooded", CancellationToken.None);
                    return;
                }

                if (Encoding.UTF8.GetString(buffer, 0, received.Count) == "big")
                {
                    // Far more than the socket's send buffer takes at once: a send that does not fit waits for room.
                    connection.Features.Get<IConnectionSocketFeature>()!.Socket.SendBufferSize = 4096;
                    await socket.SendAsync(BigMessage(), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    continue;
                }

                if (Encoding.UTF8.GetString(buffer, 0, received.Count) == "bye")
                {
                    await socket.SendAsync(Encoding.UTF8.GetBytes("last"), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "session over", CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        }
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var client = new ClientWebSocket();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await client.ConnectAsync(_url, deadline.Token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Connects until the listener admits (an earlier connection's close may still be under way), then echoes
    /// once.</summary>
    private async Task EchoOnceAdmittedAsync(TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        while (true)
        {
            try
            {
                using var next = await ConnectAsync();
                Assert.Equal("next", await EchoAsync(next, "next"));
                return;
            }
            catch (WebSocketException) when (!deadline.IsCancellationRequested)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>The browser's side of the handshake on a raw socket, up to the end of the 101's headers.</summary>
    private async Task HandshakeAsync(Socket socket)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(UpgradeRequest()));
        var response = new StringBuilder();
        var one = new byte[1];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one, SocketFlags.None, deadline.Token));
            response.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", response.ToString(), StringComparison.Ordinal);
    }

    private static byte[] BigMessage() => Enumerable.Range(0, 512 * 1024).Select(i => (byte)(i % 251)).ToArray();

    private string UpgradeRequest() =>
        $"GET / HTTP/1.1\r\nHost: {_url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// <summary>Reads until what arrived ends with <paramref name="text"/> (within 10 s).</summary>
    private static async Task<byte[]> ReceiveUntilAsync(Socket socket, string text)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new List<byte>();
        var buffer = new byte[4096];
        var end = Encoding.ASCII.GetBytes(text);
        while (!CollectionsMarshal.AsSpan(received).EndsWith(end))
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            Assert.True(count > 0, "the connection ended early");
            received.AddRange(buffer.AsSpan(0, count));
        }

        return received.ToArray();
    }

    /// <summary>One binary frame as a browser sends it: masked, here with a zero key, so the payload reads as is.</summary>
    private static byte[] MaskedFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        return [0x82, (byte)(0x80 | payload.Length), 0, 0, 0, 0, .. payload];
    }

    private static async Task<string> EchoAsync(WebSocket client, string text)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = await client.ReceiveAsync(buffer, deadline.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    /// <summary>Closes from the browser's side; returns the reason the session echoed.</summary>
    private static async Task<string?> CloseAsync(ClientWebSocket client, string reason)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, reason, deadline.Token);
        return client.CloseStatusDescription;
    }
}
