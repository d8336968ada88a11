using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
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
    private WebApplication? _app;
    private Uri _url = null!;
    private WeakReference? _request;
    private WeakReference? _http1;

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

    [Fact]
    public async Task ASession_RunsOnAfterItsRequestReturned_AndKestrelsHttpObjectsAreCollected()
    {
        await StartAsync(maxUpgraded: null);
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

    [Fact]
    public async Task TheSessionsLastWords_ReachTheBrowserBeforeTheConnectionCloses()
    {
        await StartAsync(maxUpgraded: null);
        using var client = await ConnectAsync();

        // "bye" asks the session to end by itself: it sends one last message and its close frame, then returns.
        await client.SendAsync(Encoding.UTF8.GetBytes("bye"), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[64];
        var last = await client.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("last", Encoding.UTF8.GetString(buffer, 0, last.Count));
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
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                using var next = await ConnectAsync();
                Assert.Equal("next", await EchoAsync(next, "next"));
                break;
            }
            catch (WebSocketException) when (!deadline.IsCancellationRequested)
            {
                // The first connection's close is still under way.
                await Task.Delay(50);
            }
        }
    }

    private async Task StartAsync(long? maxUpgraded)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Use(UpgradeHandoff.Listener(maxUpgraded))));
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _url = new Uri(address.Replace("http://", "ws://", StringComparison.Ordinal));
    }

    private async Task HandleAsync(HttpContext context)
    {
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

        _request = new WeakReference(context);
        _http1 = new WeakReference(context.Features.Get<IHttpUpgradeFeature>());
        handoff.ContinueWith(_ => EchoUntilClosedAsync(socket));
    }

    private static async Task EchoUntilClosedAsync(WebSocket socket)
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
