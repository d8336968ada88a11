using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>
/// One session in memory: a browser WebSocket and a VNC server socket, each joined to the relay side by a loopback
/// socket pair (real kernel buffers, so "a peer that does not read" fills up as it would in production), the relay's
/// <see cref="SessionForwarder"/> between them, and a fake clock for its close deadline. The relay's WebSocket runs over
/// a <see cref="BrowserFrameStream"/>, as a node's does (Relay:InPlaceFrames), unless a test asks for the plain path.
/// </summary>
internal sealed class ForwarderRig : IAsyncDisposable
{
    private readonly Socket _relayClientSide;

    private ForwarderRig(Socket browserSide, Socket relayClientSide, Socket vncServer, NetworkStream relayTarget, RelayOptions options)
    {
        _relayClientSide = relayClientSide;
        BrowserSocket = browserSide;
        VncServer = vncServer;
        Target = relayTarget;
        Options = options;
        Browser = WebSocket.CreateFromStream(new NetworkStream(browserSide, ownsSocket: true), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        Stream relayStream = new NetworkStream(relayClientSide, ownsSocket: true);
        if (options.InPlaceFrames)
        {
            relayStream = Frames = new BrowserFrameStream(relayStream);
        }

        RelayClient = WebSocket.CreateFromStream(relayStream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        Session = new RelaySession("test", "token", new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", 5900), Source = "test" }, "127.0.0.1", DateTimeOffset.UnixEpoch);
        Forwarder = new SessionForwarder(Time);
    }

    /// <summary>The browser's end of the WebSocket.</summary>
    public WebSocket Browser { get; }

    /// <summary>The browser's socket under <see cref="Browser"/>, for frames written byte by byte.</summary>
    public Socket BrowserSocket { get; }

    /// <summary>The relay's end of the WebSocket.</summary>
    public WebSocket RelayClient { get; }

    /// <summary>The connection under <see cref="RelayClient"/> when the rig frames in place; null on the plain path.</summary>
    public BrowserFrameStream? Frames { get; }

    /// <summary>The VNC server's end of the target connection.</summary>
    public Socket VncServer { get; }

    /// <summary>The relay's end of the target connection.</summary>
    public NetworkStream Target { get; }

    public RelaySession Session { get; }

    public RelayOptions Options { get; }

    public FakeTimeProvider Time { get; } = new();

    public SessionForwarder Forwarder { get; }

    /// <summary>Small socket buffers make "the peer does not read" fill up after kilobytes instead of megabytes.</summary>
    public static async Task<ForwarderRig> StartAsync(int maxMessageBytes = 1024 * 1024, bool inPlaceFrames = true)
    {
        var (browser, relayClient) = await PairAsync();
        var (relayTarget, vncServer) = await PairAsync();

        // Non-blocking, as TargetDialer leaves it: the forwarder takes what a zero-byte receive announced without waiting.
        var target = new NetworkStream(relayTarget, ownsSocket: true);
        relayTarget.Blocking = false;
        return new ForwarderRig(browser, relayClient, vncServer, target, new RelayOptions { MaxMessageBytes = maxMessageBytes, InPlaceFrames = inPlaceFrames });
    }

    public Task<SessionOutcome> ForwardAsync() => Forwarder.ForwardAsync(RelayClient, Target, Session, Options, frames: Frames);

    /// <summary>Moves the fake clock on in steps until <paramref name="task"/> ends; returns how much fake time that took.</summary>
    public async Task<TimeSpan> AdvanceUntilAsync(Task task, TimeSpan limit)
    {
        var start = Time.GetUtcNow();
        var step = TimeSpan.FromMilliseconds(250);
        using var real = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!task.IsCompleted)
        {
            if (Time.GetUtcNow() - start > limit)
            {
                // Every timer due within the limit has fired; on a loaded machine the work they started may still need
                // real time. Wait for it without moving the clock, then judge.
                await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(5), real.Token));
                Assert.True(task.IsCompleted, $"the session did not end within {limit} of fake time");
                break;
            }

            Time.Advance(step);
            await Task.WhenAny(task, Task.Delay(20, real.Token));
        }

        return Time.GetUtcNow() - start;
    }

    /// <summary>Reads the VNC server's socket until the relay's end is gone: EOF or a reset.</summary>
    public async Task VncServerSeesCloseAsync(TimeSpan within)
    {
        var buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(within);
        try
        {
            while (await VncServer.ReceiveAsync(buffer, SocketFlags.None, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset)
        {
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Assert.Fail($"the VNC server's connection was not closed within {within}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Browser.Abort();
        Browser.Dispose();
        RelayClient.Dispose();
        _relayClientSide.Dispose();
        VncServer.Dispose();
        await Target.DisposeAsync();
    }

    internal static async Task<(Socket Client, Socket Server)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 8192, SendBufferSize = 8192 };
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await accept;
        server.NoDelay = true;
        server.ReceiveBufferSize = 8192;
        server.SendBufferSize = 8192;
        return (client, server);
    }
}
