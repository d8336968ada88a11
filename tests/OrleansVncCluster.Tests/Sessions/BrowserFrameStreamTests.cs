using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>
/// Frames written in place (Relay:InPlaceFrames): the VNC server's bytes received into the output buffer and framed
/// there; what a browser's WebSocket reads of them, of every length form they take, mixed with the WebSocket's own frames,
/// and that nothing follows the close frame. The output is a pipe writer over the connection, as Kestrel's response body
/// writer is under an upgraded request.
/// </summary>
public sealed class BrowserFrameStreamTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, new byte[] { 0x82, 1 })]
    [InlineData(125, new byte[] { 0x82, 125 })]
    [InlineData(126, new byte[] { 0x82, 126, 0, 126 })]
    [InlineData(65535, new byte[] { 0x82, 126, 0xFF, 0xFF })]
    public void WriteHeader_IsTheShortestFormOfTheLength_WithThePayloadRightBehindIt(int count, byte[] expected)
    {
        var frame = new byte[BrowserFrameStream.LongHeader + count];
        Random.Shared.NextBytes(frame);
        var payload = frame[BrowserFrameStream.LongHeader..];

        var header = BrowserFrameStream.WriteHeader(frame, count);

        Assert.Equal(expected, frame[..header]);
        Assert.Equal(payload, frame[header..(header + count)]);
    }

    [Fact]
    public void WriteHeader_RefusesAPayloadTooLongForAFourByteHeader()
    {
        var frame = new byte[BrowserFrameStream.LongHeader + 65536];
        Assert.Throws<OverflowException>(() => BrowserFrameStream.WriteHeader(frame, 65536));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(4096)]
    [InlineData(65532)]
    [InlineData(200_000)]
    public async Task WhatTheServerSent_ArrivesWholeAtTheBrowser_InFramesOfAtMost64KiB(int count)
    {
        await using var pair = await PairWithServerAsync();
        var sent = new byte[count];
        new Random(count).NextBytes(sent);

        // The socket buffers are small: the server writes while the relay frames and the browser reads.
        var serving = Task.Run(() => pair.Server.SendAsync(sent, SocketFlags.None), TestContext.Current.CancellationToken);
        var relaying = pair.RelayAsync(count);
        using var received = new MemoryStream();
        while (received.Length < count)
        {
            var (type, message) = await ReceiveMessageAsync(pair.Browser);
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.InRange(message.Length, 1, 65535);
            received.Write(message);
        }

        await Task.WhenAll(serving, relaying).WaitAsync(Soon, TestContext.Current.CancellationToken);
        Assert.Equal(sent, received.ToArray());
    }

    /// <summary>
    /// The WebSocket writes beside the forwarder (pings, keep-alives, the close): every frame of either writer arrives
    /// whole. A socket keeps concurrent writes apart by itself, Kestrel's pipe does not; the connection here writes each
    /// write in pieces, as a pipe flushed in segments would.
    /// </summary>
    [Fact]
    public async Task TheWebSocketsOwnFrames_AndInPlaceFrames_DoNotCutIntoEachOther()
    {
        await using var pair = await PairWithServerAsync(inPieces: true);
        const int Each = 40;
        var sent = new byte[Each * 64 * 1024];
        for (var i = 0; i < Each; i++)
        {
            sent.AsSpan(i * 64 * 1024, 64 * 1024).Fill((byte)i);
        }

        var serving = Task.Run(() => pair.Server.SendAsync(sent, SocketFlags.None), TestContext.Current.CancellationToken);
        var inPlace = pair.RelayAsync(sent.Length);
        var own = Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                await pair.Relay.SendAsync(Encoding.ASCII.GetBytes(new string((char)('a' + (i % 26)), 30_000)), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }, TestContext.Current.CancellationToken);

        using var binary = new MemoryStream();
        var text = 0;
        while (binary.Length < sent.Length || text < Each)
        {
            var (type, message) = await ReceiveMessageAsync(pair.Browser);
            if (type == WebSocketMessageType.Binary)
            {
                binary.Write(message);
            }
            else
            {
                Assert.Equal(30_000, message.Length);
                Assert.All(message, b => Assert.Equal((byte)('a' + (text % 26)), b));
                text++;
            }
        }

        await Task.WhenAll(serving, inPlace, own).WaitAsync(Soon, TestContext.Current.CancellationToken);
        Assert.Equal(sent, binary.ToArray());
    }

    /// <summary>Once the WebSocket has sent its close frame, the forwarder's next frame is refused and never written.</summary>
    [Fact]
    public async Task AfterTheCloseFrame_NoDataFrameIsWritten()
    {
        await using var pair = await PairWithServerAsync();
        await pair.Server.SendAsync("abc"u8.ToArray(), SocketFlags.None);
        Assert.Equal((ReceivedFrame.Sent, 3), await pair.SendWhenThereAsync());
        await pair.Relay.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        await pair.Server.SendAsync("def"u8.ToArray(), SocketFlags.None);
        Assert.Equal((ReceivedFrame.BrowserGone, 0), await pair.SendWhenThereAsync());
        pair.BrowserSide.Shutdown(SocketShutdown.Send);
        pair.RelaySide.Shutdown(SocketShutdown.Send);

        // What the browser got, byte for byte: the data frame, the close frame (1000, "bye"), then the end of the stream.
        var wire = await ReadToEndAsync(pair.BrowserSide);
        byte[] expected = [0x82, 3, (byte)'a', (byte)'b', (byte)'c', 0x88, 5, 0x03, 0xE8, (byte)'b', (byte)'y', (byte)'e'];
        Assert.Equal(expected, wire);
    }

    /// <summary>
    /// A wake-up with nothing behind it takes nothing from the output's pool: a block taken and not written would stay
    /// with the connection for as long as the console is quiet. The server's end is told apart from it.
    /// </summary>
    [Fact]
    public async Task NothingThere_TakesNoBuffer_AndTheServersEndIsReported()
    {
        await using var pair = await PairWithServerAsync();
        Assert.Equal((ReceivedFrame.NothingThere, 0), await pair.Frames.SendReceivedAsync(pair.RelayServerSide));
        Assert.Equal(0, pair.Pool.Rented);

        await pair.Server.SendAsync("x"u8.ToArray(), SocketFlags.None);
        Assert.Equal((ReceivedFrame.Sent, 1), await pair.SendWhenThereAsync());
        Assert.Equal(1, pair.Pool.Rented);

        pair.Server.Shutdown(SocketShutdown.Send);
        Assert.Equal((ReceivedFrame.ServerEnded, 0), await pair.SendWhenThereAsync());
        Assert.Equal(1, pair.Pool.Rented);
    }

    /// <summary>When the browser's connection is gone (Kestrel's output pipe completed by its reader, or its writer
    /// finished with the request), the frame reports it instead of throwing, and the server's bytes stay unread.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AGoneBrowser_IsReported(bool writerCompleted)
    {
        var (serverSide, relayServerSide) = await ForwarderRig.PairAsync();
        using var _server = serverSide;
        using var _relay = relayServerSide;
        relayServerSide.Blocking = false;
        var pipe = new Pipe();
        if (writerCompleted)
        {
            pipe.Writer.Complete();
        }
        else
        {
            pipe.Reader.Complete();
        }

        await using var frames = new BrowserFrameStream(Stream.Null, pipe.Writer);
        await serverSide.SendAsync("abc"u8.ToArray(), SocketFlags.None);
        await relayServerSide.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);

        var (result, _) = await frames.SendReceivedAsync(relayServerSide);

        Assert.Equal(ReceivedFrame.BrowserGone, result);
        Assert.Equal(writerCompleted ? 3 : 0, relayServerSide.Available);
    }

    [Theory]
    [InlineData(true, "/websockify", "HTTP/1.1", true)]
    [InlineData(true, "/websockify/", "HTTP/1.1", true)]
    [InlineData(true, "/websockify/other", "HTTP/1.1", false)]
    [InlineData(true, "/console", "HTTP/1.1", false)]
    [InlineData(true, "/websockify", "HTTP/2", false)]
    [InlineData(false, "/websockify", "HTTP/1.1", false)]
    public async Task UseInPlaceFrames_WrapsTheUpgradeOfConsoleRequestsOnly_WhenEnabled(bool enabled, string path, string protocol, bool wrapped)
    {
        var services = new ServiceCollection().AddOptions().Configure<RelayOptions>(o => o.InPlaceFrames = enabled).BuildServiceProvider();
        var app = new ApplicationBuilder(services);
        app.UseInPlaceFrames();
        IHttpUpgradeFeature? seen = null;
        app.Run(context =>
        {
            seen = context.Features.Get<IHttpUpgradeFeature>();
            return Task.CompletedTask;
        });

        var (browserSide, relaySide) = await ForwarderRig.PairAsync();
        using var _browserSide = browserSide;
        var kestrel = new UpgradeOf(new NetworkStream(relaySide, ownsSocket: true));
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.Protocol = protocol;
        context.Features.Set<IHttpUpgradeFeature>(kestrel);
        var connection = new Pipe();
        context.Features.Set<IConnectionTransportFeature>(new TransportOf(new DuplexPipe(connection.Reader, connection.Writer)));
        await app.Build()(context);

        Assert.Equal(wrapped, seen is InPlaceFramesUpgrade);
        Assert.Null(InPlaceFramesUpgrade.Of(context)); // nothing to write to before the upgrade
        var upgraded = await seen!.UpgradeAsync();
        await using var _upgraded = upgraded;
        Assert.Equal(wrapped, upgraded is BrowserFrameStream);
        Assert.Same(wrapped ? upgraded : null, InPlaceFramesUpgrade.Of(context));
    }

    private sealed class TransportOf(IDuplexPipe transport) : IConnectionTransportFeature
    {
        public IDuplexPipe Transport { get; set; } = transport;
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class UpgradeOf(Stream connection) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;

        public Task<Stream> UpgradeAsync() => Task.FromResult(connection);
    }

    /// <summary>A <see cref="BrowserFrameStream"/> over a connection, writing frames through a pipe writer over the same
    /// connection with the node's 64 KiB blocks, as Kestrel's response body writer does under an upgraded request.</summary>
    internal static BrowserFrameStream Over(Stream connection, MemoryPool<byte>? pool = null) =>
        new(connection, PipeWriter.Create(connection, new StreamPipeWriterOptions(pool ?? new LargeBlockMemoryPool(), leaveOpen: true)));

    /// <summary>A browser's WebSocket joined by loopback to the relay's, which runs over a <see cref="BrowserFrameStream"/>,
    /// and a VNC server joined by loopback to the relay's non-blocking socket, as TargetDialer leaves it.</summary>
    private static async Task<Pair> PairWithServerAsync(bool inPieces = false)
    {
        var (browserSide, relaySide) = await ForwarderRig.PairAsync();
        var (server, relayServerSide) = await ForwarderRig.PairAsync();
        relayServerSide.Blocking = false;
        Stream connection = new NetworkStream(relaySide, ownsSocket: false);
        var pool = new CountingPool();
        var frames = Over(inPieces ? new WriteCountingStream(connection, piece: 1000) : connection, pool);
        var relay = WebSocket.CreateFromStream(frames, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var browser = WebSocket.CreateFromStream(new NetworkStream(browserSide, ownsSocket: false), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        return new Pair(browser, browserSide, relay, relaySide, frames, server, relayServerSide, pool);
    }

    private sealed record Pair(
        WebSocket Browser, Socket BrowserSide, WebSocket Relay, Socket RelaySide, BrowserFrameStream Frames, Socket Server, Socket RelayServerSide, CountingPool Pool)
        : IAsyncDisposable
    {
        /// <summary>What the forwarder does for one frame: waits for the server, then frames what it sent.</summary>
        public async Task<(ReceivedFrame, int)> SendWhenThereAsync()
        {
            using var deadline = new CancellationTokenSource(Soon);
            await RelayServerSide.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, deadline.Token);
            return await Frames.SendReceivedAsync(RelayServerSide);
        }

        /// <summary>Frames what the server sends until <paramref name="count"/> bytes went to the browser.</summary>
        public Task RelayAsync(int count) => Task.Run(async () =>
        {
            for (var sent = 0; sent < count;)
            {
                var (result, bytes) = await SendWhenThereAsync();
                Assert.NotEqual(ReceivedFrame.ServerEnded, result);
                Assert.NotEqual(ReceivedFrame.BrowserGone, result);
                sent += bytes;
            }
        });

        public async ValueTask DisposeAsync()
        {
            Browser.Dispose();
            Relay.Dispose();
            await Frames.DisposeAsync();
            foreach (var socket in new[] { BrowserSide, RelaySide, Server, RelayServerSide })
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>The node's 64 KiB blocks, counting how many were taken.</summary>
    private sealed class CountingPool : MemoryPool<byte>
    {
        private readonly LargeBlockMemoryPool _blocks = new();
        private int _rented;

        public int Rented => Volatile.Read(ref _rented);

        public override int MaxBufferSize => _blocks.MaxBufferSize;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _rented);
            return _blocks.Rent(minBufferSize);
        }

        protected override void Dispose(bool disposing) => _blocks.Dispose();
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
