using System.Net.Sockets;
using System.Net.WebSockets;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>The session owner in memory: every way a session ends, and that a stop ends it whatever the peers do.</summary>
public sealed class SessionForwarderTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TargetEof_ClosesTheBrowserWith1000()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        rig.VncServer.Shutdown(SocketShutdown.Send);

        var close = await ReceiveCloseAsync(rig.Browser);
        Assert.Equal((WebSocketCloseStatus.NormalClosure, CloseReasons.TargetClosedText), close);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.TargetClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ClientClose_EchoesItsCodeAndClosesTheTarget()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);

        Assert.Equal(SessionOutcome.ClientClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "bye"), await ReceiveCloseAsync(rig.Browser));
        await rig.VncServerSeesCloseAsync(Soon);
    }

    [Fact]
    public async Task TextFrame_ClosesWith1003()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        await rig.Browser.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, TestContext.Current.CancellationToken);

        Assert.Equal((CloseReasons.TextFrame, CloseReasons.TextFrameText), await ReceiveCloseAsync(rig.Browser));
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.TextFrame, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        await rig.VncServerSeesCloseAsync(Soon);
    }

    [Fact]
    public async Task OversizeFrame_ClosesWith1009AndNothingOfItReachesTheTarget()
    {
        await using var rig = await ForwarderRig.StartAsync(maxMessageBytes: 1024);
        var run = rig.ForwardAsync();

        await rig.Browser.SendAsync(new byte[4096], WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);

        Assert.Equal((CloseReasons.TooBig, "message larger than 1024 bytes"), await ReceiveCloseAsync(rig.Browser));
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.TooBig, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        Assert.Equal(0, rig.Session.BytesToTarget);
    }

    [Fact]
    public async Task BytesFlowBothWays()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        await rig.VncServer.SendAsync("RFB 003.008\n"u8.ToArray(), SocketFlags.None, TestContext.Current.CancellationToken);
        var buffer = new byte[64];
        var received = await rig.Browser.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
        Assert.Equal("RFB 003.008\n", System.Text.Encoding.ASCII.GetString(buffer, 0, received.Count));
        await rig.Browser.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        var read = await rig.VncServer.ReceiveAsync(buffer, SocketFlags.None, TestContext.Current.CancellationToken);
        Assert.Equal(12, read);

        rig.Session.RequestStop(CloseReasons.Revoked, CloseReasons.RevokedText);
        Assert.Equal((CloseReasons.Revoked, CloseReasons.RevokedText), await ReceiveCloseAsync(rig.Browser));
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.Stopped, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task StopWhileTheBrowserDoesNotRead_ShutsTheTargetAtOnceAndEndsWithinTheCloseTimeout()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();
        using var flood = new CancellationTokenSource();
        var flooding = FloodAsync(rig.VncServer, flood.Token);
        await WaitUntilAsync(() => rig.Session.BytesToClient > 0 && !flooding.IsCompleted, "the target's flood to reach the relay");
        await Task.Delay(200, TestContext.Current.CancellationToken); // let the browser's receive window fill: it never reads

        var stoppedAt = rig.Time.GetUtcNow();
        rig.Session.RequestStop(CloseReasons.Revoked, CloseReasons.RevokedText);

        // The VM hears nothing more before any deadline passes: the fake clock has not moved yet.
        await flood.CancelAsync();
        await rig.VncServerSeesCloseAsync(Soon);
        Assert.Equal(stoppedAt, rig.Time.GetUtcNow());
        var took = await rig.AdvanceUntilAsync(run, SessionForwarder.CloseTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal(SessionOutcome.Stopped, await run);
        Assert.InRange(took, TimeSpan.Zero, SessionForwarder.CloseTimeout + TimeSpan.FromMilliseconds(500));
        Assert.Equal(WebSocketState.Aborted, rig.RelayClient.State);
    }

    [Fact]
    public async Task StopWhileTheVncServerDoesNotRead_EndsAtOnce()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();
        using var flood = new CancellationTokenSource();
        var typing = TypeAsync(rig.Browser, flood.Token);
        await WaitUntilAsync(() => rig.Session.BytesToTarget > 8 * 1024, "the browser's input to reach the target");
        await Task.Delay(200, TestContext.Current.CancellationToken); // let the target's receive window fill: it never reads

        rig.Session.RequestStop(CloseReasons.Revoked, CloseReasons.RevokedText);

        await rig.VncServerSeesCloseAsync(Soon);
        var took = await rig.AdvanceUntilAsync(run, SessionForwarder.CloseTimeout + TimeSpan.FromSeconds(1));
        Assert.Equal(SessionOutcome.Stopped, await run);
        Assert.InRange(took, TimeSpan.Zero, SessionForwarder.CloseTimeout + TimeSpan.FromMilliseconds(500));
        await flood.CancelAsync();
    }

    [Fact]
    public async Task ViewOnlyFilter_DropsKeyAndPointerEvents_AndForwardsTheUpdateRequest()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ViewOnly = true });
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: filter);
        byte[] update = [3, 0, 0, 0, 0, 0, 0, 64, 0, 48];

        // Key, pointer, then the update request split over two frames: the filter holds the partial header between them.
        await rig.Browser.SendAsync((byte[])[4, 1, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 10, 0, 10, .. update[..4]], WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        await rig.Browser.SendAsync(update[4..], WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);

        var received = new byte[update.Length];
        using var timeout = new CancellationTokenSource(Soon);
        await new NetworkStream(rig.VncServer, ownsSocket: false).ReadExactlyAsync(received, timeout.Token);
        Assert.Equal(update, received);
        Assert.Equal(1, filter.Dropped(RfbClientMessageKind.KeyEvent));
        Assert.Equal(1, filter.Dropped(RfbClientMessageKind.PointerEvent));
        // The forwarder counts a write once it completed; the VNC server can read the bytes before that continuation runs.
        await WaitUntilAsync(() => rig.Session.BytesToTarget >= update.Length, "the forwarder to count what it wrote");
        Assert.Equal(update.Length, rig.Session.BytesToTarget);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.ClientClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FilteredSession_UnknownMessageType_ClosesWith1002AndTheFiltersReason()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ViewOnly = true });
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: filter);

        await rig.Browser.SendAsync(new byte[] { 77, 0, 0, 0 }, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);

        var (status, reason) = await ReceiveCloseAsync(rig.Browser);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, status);
        Assert.Equal(filter.Error, reason);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.RfbViolation, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        await rig.VncServerSeesCloseAsync(Soon);
    }

    private static async Task<(WebSocketCloseStatus?, string?)> ReceiveCloseAsync(WebSocket browser)
    {
        var buffer = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(Soon);
        while (true)
        {
            var result = await browser.ReceiveAsync(buffer, deadline.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (result.CloseStatus, result.CloseStatusDescription);
            }
        }
    }

    private static async Task FloodAsync(Socket vncServer, CancellationToken stop)
    {
        var screen = new byte[16 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await vncServer.SendAsync(screen, SocketFlags.None, stop);
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task TypeAsync(WebSocket browser, CancellationToken stop)
    {
        var keys = new byte[8 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await browser.SendAsync(keys, WebSocketMessageType.Binary, endOfMessage: true, stop);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Soon);
        while (!condition())
        {
            Assert.False(deadline.IsCancellationRequested, $"timed out waiting for {what}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
