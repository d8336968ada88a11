using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Tests.Sessions;

namespace OrleansVncCluster.Tests.Recording;

/// <summary>The player on a fake clock: screen data before the asked moment comes at once, later data at its time divided
/// by the speed, and the close at the End record's time.</summary>
public sealed class RecordingPlayerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly byte[] ServerInit = [0, 64, 0, 48, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] NoVncFormat = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0];

    /// <summary>Keyframe and screen data "A" at 0, "B" at 2 s, "C" at 4 s, End at 5 s.</summary>
    private static MemoryStream Recording()
    {
        var file = new MemoryStream();
        var writer = new RecordingFileWriter(file, TimeProvider.System);
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit);
        writer.WriteAt(RecordingRecordKind.ClientSetup, 0, NoVncFormat);
        writer.WriteAt(RecordingRecordKind.Keyframe, 0, []);
        writer.WriteAt(RecordingRecordKind.ServerData, 0, "A"u8);
        writer.WriteAt(RecordingRecordKind.ServerData, 2000, "B"u8);
        writer.WriteAt(RecordingRecordKind.ServerData, 4000, "C"u8);
        writer.WriteAt(RecordingRecordKind.End, 5000, "{}"u8);
        file.Position = 0;
        return file;
    }

    [Fact]
    public async Task PlayingAt2x_SendsEachRecordAtItsTimeHalved_AndClosesAtTheEnd()
    {
        var time = new TimerCountingTime();
        var (browser, player) = await PairAsync();
        using (browser)
        using (player)
        {
            var file = Recording();
            var play = new RecordingPlayer(time).PlayAsync(player, file, RecordingIndex.Build(file), new PlaybackRequest(1000, 2, false), CancellationToken.None);
            await HandshakeAsync(browser);

            Assert.Equal("A", await ReadTextAsync(browser));
            await time.WaitForTimersAsync(1);
            time.Advance(TimeSpan.FromMilliseconds(499));
            var next = ReadTextAsync(browser);
            Assert.False(next.IsCompleted, "B came before its time");
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal("B", await next);

            await time.WaitForTimersAsync(2);
            time.Advance(TimeSpan.FromMilliseconds(1000));
            Assert.Equal("C", await ReadTextAsync(browser));
            await time.WaitForTimersAsync(3);
            time.Advance(TimeSpan.FromMilliseconds(499));
            Assert.False(play.IsCompleted, "the player closed before the End record's time");
            time.Advance(TimeSpan.FromMilliseconds(1));
            var received = await browser.ReceiveAsync(new byte[16], new CancellationTokenSource(Timeout).Token);
            Assert.Equal((WebSocketMessageType.Close, RecordingPlayer.EndOfRecording), (received.MessageType, browser.CloseStatusDescription));
            await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            Assert.Equal(RecordingPlayer.EndOfRecording, (await play.WaitAsync(Timeout)).Reason);
        }
    }

    /// <summary>
    /// A fake clock that counts the timers made on it. The player reads the clock, then starts its wait; a test that
    /// moves the clock between the two leaves the wait due later than the record (a proof run timed out on "B" so).
    /// Waiting for the player's timer before each move keeps the order the test means.
    /// </summary>
    private sealed class TimerCountingTime : FakeTimeProvider
    {
        private int _timers;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return base.CreateTimer(callback, state, dueTime, period);
        }

        public async Task WaitForTimersAsync(int count)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (Volatile.Read(ref _timers) < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the player did not start wait {count} within {Timeout.TotalSeconds:0} s");
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
        }
    }

    [Fact]
    public async Task Paused_SendsUpToTheMoment_AndNothingAfter_UntilTheBrowserLeaves()
    {
        var time = new FakeTimeProvider();
        var (browser, player) = await PairAsync();
        using (browser)
        using (player)
        {
            var file = Recording();
            var play = new RecordingPlayer(time).PlayAsync(player, file, RecordingIndex.Build(file), new PlaybackRequest(2500, 1, true), CancellationToken.None);
            await HandshakeAsync(browser);

            Assert.Equal("AB", await ReadTextAsync(browser));
            time.Advance(TimeSpan.FromMinutes(10));
            await browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "seek", CancellationToken.None);

            Assert.Equal("the browser left", (await play.WaitAsync(Timeout)).Reason);
        }
    }

    /// <summary>The browser's side of RFB 3.8 with security None and noVNC's pixel format, up to the ServerInit.</summary>
    private static async Task HandshakeAsync(WebSocket browser)
    {
        await ReadBytesAsync(browser, 12);
        await browser.SendAsync("RFB 003.008\n"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        await ReadBytesAsync(browser, 2);
        await browser.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await ReadBytesAsync(browser, 4);
        await browser.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await ReadBytesAsync(browser, ServerInit.Length);
        await browser.SendAsync(NoVncFormat, WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    private static async Task ReadBytesAsync(WebSocket browser, int count)
    {
        var buffer = new byte[count];
        for (var got = 0; got < count;)
        {
            got += (await browser.ReceiveAsync(buffer.AsMemory(got), new CancellationTokenSource(Timeout).Token)).Count;
        }
    }

    private static async Task<string> ReadTextAsync(WebSocket browser)
    {
        var buffer = new byte[64];
        var received = await browser.ReceiveAsync(buffer.AsMemory(), new CancellationTokenSource(Timeout).Token);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, received.Count);
    }

    private static async Task<(WebSocket Browser, WebSocket Player)> PairAsync()
    {
        var (client, server) = await ForwarderRig.PairAsync();
        var options = new WebSocketCreationOptions { KeepAliveInterval = TimeSpan.Zero };
        return (WebSocket.CreateFromStream(new NetworkStream(client, ownsSocket: true), options),
            WebSocket.CreateFromStream(new NetworkStream(server, ownsSocket: true), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero }));
    }
}
