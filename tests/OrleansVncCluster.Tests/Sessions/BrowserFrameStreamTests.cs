using System.Buffers.Binary;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>
/// Frames written in place (Relay:InPlaceFrames): what a browser's WebSocket reads of them, of every length form RFC 6455
/// has, mixed with the WebSocket's own frames, and that nothing follows the close frame.
/// </summary>
public sealed class BrowserFrameStreamTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0, new byte[] { 0x82, 0 })]
    [InlineData(1, new byte[] { 0x82, 1 })]
    [InlineData(125, new byte[] { 0x82, 125 })]
    [InlineData(126, new byte[] { 0x82, 126, 0, 126 })]
    [InlineData(65535, new byte[] { 0x82, 126, 0xFF, 0xFF })]
    [InlineData(65536, new byte[] { 0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0 })]
    public void WriteHeader_IsTheShortestFormOfTheLength_EndingAtTheHeadroom(int count, byte[] expected)
    {
        var buffer = new byte[BrowserFrameStream.Headroom];
        var start = BrowserFrameStream.WriteHeader(buffer, count);
        Assert.Equal(expected, buffer[start..BrowserFrameStream.Headroom]);
    }

    [Fact]
    public async Task FramesOfEveryLengthForm_ArriveWholeAtTheBrowser()
    {
        var (browser, frames, _) = await ConnectAsync();
        await using var _frames = frames;
        using var _browser = browser;
        var random = new Random(17);
        foreach (var count in new[] { 0, 1, 125, 126, 127, 65535, 65536, 100_000 })
        {
            var buffer = new byte[BrowserFrameStream.Headroom + count];
            random.NextBytes(buffer.AsSpan(BrowserFrameStream.Headroom));
            var payload = buffer[BrowserFrameStream.Headroom..];

            // The socket buffers are small: the browser reads while the frame is written.
            var writing = frames.WriteBinaryAsync(buffer, count).AsTask();
            var (type, received) = await ReceiveMessageAsync(browser);
            Assert.True(await writing.WaitAsync(Soon, TestContext.Current.CancellationToken));
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal(payload, received);
        }
    }

    /// <summary>
    /// The WebSocket writes beside the forwarder (pings, keep-alives, the close): every frame of either writer arrives
    /// whole. A socket keeps concurrent writes apart by itself, Kestrel's pipe does not; the connection here writes each
    /// write in pieces, as a pipe flushed in segments would.
    /// </summary>
    [Fact]
    public async Task TheWebSocketsOwnFrames_AndInPlaceFrames_DoNotCutIntoEachOther()
    {
        var (browser, frames, relay) = await ConnectAsync(inPieces: true);
        await using var _frames = frames;
        using var _browser = browser;
        using var _relay = relay;
        const int Each = 40;

        var inPlace = Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                var buffer = new byte[BrowserFrameStream.Headroom + 64 * 1024];
                buffer.AsSpan(BrowserFrameStream.Headroom).Fill((byte)i);
                Assert.True(await frames.WriteBinaryAsync(buffer, buffer.Length - BrowserFrameStream.Headroom));
            }
        }, TestContext.Current.CancellationToken);
        var own = Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                await relay.SendAsync(Encoding.ASCII.GetBytes(new string((char)('a' + (i % 26)), 30_000)), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);

        var (binary, text) = (0, 0);
        while (binary + text < 2 * Each)
        {
            var (type, message) = await ReceiveMessageAsync(browser);
            if (type == WebSocketMessageType.Binary)
            {
                Assert.Equal(64 * 1024, message.Length);
                Assert.All(message, b => Assert.Equal((byte)binary, b));
                binary++;
            }
            else
            {
                Assert.Equal(30_000, message.Length);
                Assert.All(message, b => Assert.Equal((byte)('a' + (text % 26)), b));
                text++;
            }
        }

        await Task.WhenAll(inPlace, own).WaitAsync(Soon, TestContext.Current.CancellationToken);
    }

    /// <summary>Once the WebSocket has sent its close frame, the forwarder's next frame is refused and never written.</summary>
    [Fact]
    public async Task AfterTheCloseFrame_NoDataFrameIsWritten()
    {
        var (browserSide, relaySide) = await ForwarderRig.PairAsync();
        using var _browserSide = browserSide;
        await using var frames = new BrowserFrameStream(new NetworkStream(relaySide, ownsSocket: true));
        using var relay = WebSocket.CreateFromStream(frames, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var buffer = new byte[BrowserFrameStream.Headroom + 3];
        "abc"u8.CopyTo(buffer.AsSpan(BrowserFrameStream.Headroom));

        Assert.True(await frames.WriteBinaryAsync(buffer, 3));
        await relay.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        Assert.False(await frames.WriteBinaryAsync(buffer, 3));
        browserSide.Shutdown(SocketShutdown.Send);
        relaySide.Shutdown(SocketShutdown.Send);

        // What the browser got, byte for byte: the data frame, the close frame (1000, "bye"), then the end of the stream.
        var wire = await ReadToEndAsync(browserSide);
        byte[] expected = [0x82, 3, (byte)'a', (byte)'b', (byte)'c', 0x88, 5, 0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e'];
        Assert.Equal(expected, wire);
    }

    [Theory]
    [InlineData(true, "/websockify", true)]
    [InlineData(true, "/websockify/", true)]
    [InlineData(true, "/WebSockify", true)]
    [InlineData(true, "/websockify/other", false)]
    [InlineData(true, "/console", false)]
    [InlineData(false, "/websockify", true)]
    public async Task UseRelaySessions_RunsTheSessionPathOnItsBranch_WithTheInPlaceUpgradeWhenEnabled(bool enabled, string path, bool session)
    {
        var services = new ServiceCollection().AddOptions().AddLogging().Configure<RelayOptions>(o => o.InPlaceFrames = enabled).BuildServiceProvider();
        var app = new ApplicationBuilder(services);
        IHttpUpgradeFeature? seen = null;
        var fellThrough = false;
        app.UseRelaySessions(context =>
        {
            seen = context.Features.Get<IHttpUpgradeFeature>();
            return Task.CompletedTask;
        });
        app.Run(_ =>
        {
            fellThrough = true;
            return Task.CompletedTask;
        });

        var (browserSide, relaySide) = await ForwarderRig.PairAsync();
        using var _browserSide = browserSide;
        var kestrel = new UpgradeOf(new NetworkStream(relaySide, ownsSocket: true));
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Features.Set<IHttpUpgradeFeature>(kestrel);
        await app.Build()(context);

        Assert.Equal(!session, fellThrough);
        Assert.Equal(session, context.Features.Get<IHttpWebSocketFeature>() is not null); // the branch's WebSocket middleware ran
        if (!session)
        {
            Assert.Null(seen);
            return;
        }

        Assert.Equal(enabled, seen is InPlaceFramesUpgrade);
        Assert.Null(InPlaceFramesUpgrade.Of(context)); // nothing to write to before the upgrade
        var upgraded = await seen!.UpgradeAsync();
        await using var _upgraded = upgraded;
        Assert.Equal(enabled, upgraded is BrowserFrameStream);
        Assert.Same(enabled ? upgraded : null, InPlaceFramesUpgrade.Of(context));
    }

    private sealed class UpgradeOf(Stream connection) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public Task<Stream> UpgradeAsync() => Task.FromResult(connection);
    }

    /// <summary>A browser's WebSocket joined by loopback to the relay's, which runs over a <see cref="BrowserFrameStream"/>.</summary>
    private static async Task<(WebSocket Browser, BrowserFrameStream Frames, WebSocket Relay)> ConnectAsync(bool inPieces = false)
    {
        var (browserSide, relaySide) = await ForwarderRig.PairAsync();
        Stream connection = new NetworkStream(relaySide, ownsSocket: true);
        var frames = new BrowserFrameStream(inPieces ? new WriteCountingStream(connection, piece: 1000) : connection);
        var relay = WebSocket.CreateFromStream(frames, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var browser = WebSocket.CreateFromStream(new NetworkStream(browserSide, ownsSocket: true), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return (browser, frames, relay);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Message)> ReceiveMessageAsync(WebSocket browser)
    {
        using var deadline = new CancellationTokenSource(Soon);
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await browser.ReceiveAsync(buffer, deadline.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var deadline = new CancellationTokenSource(Soon);
        using var wire = new MemoryStream();
        var buffer = new byte[1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
        {
            wire.Write(buffer, 0, read);
        }

        return wire.ToArray();
    }
}
