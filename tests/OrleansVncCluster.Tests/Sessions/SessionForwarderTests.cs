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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TargetEof_ClosesTheBrowserWith1000(bool inPlaceFrames)
    {
        await using var rig = await ForwarderRig.StartAsync(inPlaceFrames: inPlaceFrames);
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

    /// <summary>
    /// A session that ends from the browser's side, or is stopped, ends the server's read by shutting its socket, so no
    /// exception is thrown on its way out (a cancelled read threw one in every such session: docs/benchmarks.md).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BrowserCloseOrStop_ThrowsNoExceptionInTheSession(bool stop)
    {
        await using var rig = await ForwarderRig.StartAsync();
        using var watch = new ExceptionWatch();
        var run = watch.Run(rig.ForwardAsync);

        // Both directions have relayed and wait again, so the server's read is parked when the session ends.
        await rig.VncServer.SendAsync("RFB 003.008\n"u8.ToArray(), SocketFlags.None, TestContext.Current.CancellationToken);
        var buffer = new byte[64];
        Assert.Equal(12, (await rig.Browser.ReceiveAsync(buffer, TestContext.Current.CancellationToken)).Count);
        await rig.Browser.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        Assert.Equal(12, await rig.VncServer.ReceiveAsync(buffer, SocketFlags.None, TestContext.Current.CancellationToken));

        if (stop)
        {
            rig.Session.RequestStop(CloseReasons.Revoked, CloseReasons.RevokedText);
            Assert.Equal((CloseReasons.Revoked, CloseReasons.RevokedText), await ReceiveCloseAsync(rig.Browser));
            await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        }
        else
        {
            await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
            Assert.Equal((WebSocketCloseStatus.NormalClosure, "bye"), await ReceiveCloseAsync(rig.Browser));
        }

        Assert.Equal(stop ? SessionOutcome.Stopped : SessionOutcome.ClientClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        await rig.VncServerSeesCloseAsync(Soon);
        Assert.True(watch.Seen.IsEmpty, "thrown in the session: " + string.Join("; ", watch.Seen.Select(e => $"{e.GetType().Name}: {e.Message}")));
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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BytesFlowBothWays(bool inPlaceFrames)
    {
        await using var rig = await ForwarderRig.StartAsync(inPlaceFrames: inPlaceFrames);
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
    public async Task FramesAtHand_ReachTheVncServerInOneWrite()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var events = Enumerable.Range(1, 4).Select(i => new byte[] { 5, 0, (byte)i, 0, (byte)i, 0 }).ToArray();
        foreach (var pointer in events)
        {
            // Sent before the relay reads: a burst of pointer events that arrived together.
            await rig.Browser.SendAsync(pointer, WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        }

        var target = new WriteCountingStream(rig.Target);
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, loggedIn: target);

        Assert.Equal(events.SelectMany(e => e).ToArray(), await ReceiveAtServerAsync(rig.VncServer, 24));
        Assert.Equal(1, target.Writes);
        // The forwarder counts a write once it completed; the VNC server can read the bytes before that continuation runs.
        await WaitUntilAsync(() => rig.Session.BytesToTarget >= 24, "the forwarder to count what it wrote");
        Assert.Equal(24, rig.Session.BytesToTarget);

        // A frame that comes alone still goes at once.
        await rig.Browser.SendAsync(events[0], WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        Assert.Equal(events[0], await ReceiveAtServerAsync(rig.VncServer, 6));
        Assert.Equal(2, target.Writes);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.ClientClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task GatheredFrames_DoNotWaitForTheRestOfAFrameStillOnItsWay()
    {
        await using var rig = await ForwarderRig.StartAsync();
        byte[] first = [5, 0, 1, 0, 1, 0], second = [5, 0, 2, 0, 2, 0];

        // Two masked binary frames (a zero mask leaves the payload as it is), the second cut after 2 of its 6 bytes.
        byte[] Frame(byte[] payload) => [0x82, (byte)(0x80 | payload.Length), 0, 0, 0, 0, .. payload];
        byte[] wire = [.. Frame(first), .. Frame(second)];
        var cut = Frame(first).Length + 8;
        await rig.BrowserSocket.SendAsync(wire.AsMemory(0, cut), SocketFlags.None, TestContext.Current.CancellationToken);
        var run = rig.ForwardAsync();

        Assert.Equal(first, await ReceiveAtServerAsync(rig.VncServer, first.Length));
        await rig.BrowserSocket.SendAsync(wire.AsMemory(cut), SocketFlags.None, TestContext.Current.CancellationToken);
        Assert.Equal(second, await ReceiveAtServerAsync(rig.VncServer, second.Length));
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.ClientClosed, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(WebSocketMessageType.Close, SessionOutcome.ClientClosed)]
    [InlineData(WebSocketMessageType.Text, SessionOutcome.TextFrame)]
    public async Task FramesGatheredBeforeTheEnd_AllReachTheVncServer(WebSocketMessageType last, SessionOutcome expected)
    {
        await using var rig = await ForwarderRig.StartAsync();
        var keys = new byte[] { 4, 1, 0, 0, 0, 0, 0, 0x61, 4, 0, 0, 0, 0, 0, 0, 0x61 };
        await rig.Browser.SendAsync(keys.AsMemory(0, 8), WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        await rig.Browser.SendAsync(keys.AsMemory(8), WebSocketMessageType.Binary, endOfMessage: true, TestContext.Current.CancellationToken);
        if (last == WebSocketMessageType.Close)
        {
            await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        }
        else
        {
            await rig.Browser.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, TestContext.Current.CancellationToken);
        }

        var run = rig.ForwardAsync();

        Assert.Equal(keys, await ReceiveAtServerAsync(rig.VncServer, keys.Length));
        Assert.Equal(expected, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        Assert.Equal(keys.Length, rig.Session.BytesToTarget);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StopWhileTheBrowserDoesNotRead_ShutsTheTargetAtOnceAndEndsWithinTheCloseTimeout(bool inPlaceFrames)
    {
        await using var rig = await ForwarderRig.StartAsync(inPlaceFrames: inPlaceFrames);
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
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: filter, frames: rig.Frames);
        byte[] update = [3, 0, 0, 0, 0, 0, 0, 64, 0, 48];

        // Key, pointer, then the update request split over two frames: the filter holds the partial header between them.
        await rig.Browser.SendAsync((byte[])[4, 1, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 10, 0, 10, .. update[..4]], WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        await rig.Browser.SendAsync(update[4..], WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);

        Assert.Equal(update, await ReceiveAtServerAsync(rig.VncServer, update.Length));
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
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: filter, frames: rig.Frames);

        await rig.Browser.SendAsync(new byte[] { 77, 0, 0, 0 }, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);

        var (status, reason) = await ReceiveCloseAsync(rig.Browser);
        Assert.Equal(WebSocketCloseStatus.ProtocolError, status);
        Assert.Equal(filter.Error, reason);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        Assert.Equal(SessionOutcome.RfbViolation, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        await rig.VncServerSeesCloseAsync(Soon);
    }

    private static async Task<byte[]> ReceiveAtServerAsync(Socket vncServer, int count)
    {
        var received = new byte[count];
        using var timeout = new CancellationTokenSource(Soon);
        await new NetworkStream(vncServer, ownsSocket: false).ReadExactlyAsync(received, timeout.Token);
        return received;
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

/// <summary>
/// The exceptions thrown inside the code <see cref="Run"/> starts, and in the continuations it awaits: an async-local mark
/// flows with them, so what other tests throw at the same time is not counted.
/// </summary>
internal sealed class ExceptionWatch : IDisposable
{
    private static readonly AsyncLocal<ExceptionWatch?> Current = new();

    public ExceptionWatch() => AppDomain.CurrentDomain.FirstChanceException += OnThrown;

    public System.Collections.Concurrent.ConcurrentQueue<Exception> Seen { get; } = new();

    /// <summary>Starts <paramref name="body"/> under the mark; the caller's own code stays unwatched.</summary>
    public Task<T> Run<T>(Func<Task<T>> body)
    {
        Current.Value = this;
        try
        {
            return body();
        }
        finally
        {
            Current.Value = null;
        }
    }

    public void Dispose() => AppDomain.CurrentDomain.FirstChanceException -= OnThrown;

    private void OnThrown(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
    {
        if (Current.Value == this)
        {
            Seen.Enqueue(e.Exception);
        }
    }
}

/// <summary>
/// A connection counting the writes made on it. With <paramref name="piece"/>, each write goes out in pieces of that many
/// bytes with other work let in between, as a pipe flushed in segments does (a socket keeps each write whole).
/// </summary>
internal sealed class WriteCountingStream(Stream inner, int piece = int.MaxValue) : Stream
{
    public int Writes { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Writes++;
        if (buffer.Length <= piece)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        for (var at = 0; at < buffer.Length; at += piece)
        {
            await Task.Yield();
            await inner.WriteAsync(buffer[at..Math.Min(at + piece, buffer.Length)], cancellationToken);
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("the forwarder writes asynchronously");

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
