using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>
/// Playback of recordings in Chromium through the playback page of a real node (issue 14): the colours recorded appear
/// in order, a seek anywhere in an hour shows the right screen, the page's memory stays bounded, and every credential
/// that is not this recording's playback ticket is refused with a reason.
/// </summary>
public sealed class PlaybackTests(PlaybackFixture fixture, ITestOutputHelper output) : IClassFixture<PlaybackFixture>
{
    /// <summary>The failure bound of a wait, generous for a busy machine; the seek times are measured and reported.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static readonly Rgb Red = new(255, 0, 0);
    private static readonly Rgb Green = new(0, 255, 0);
    private static readonly Rgb Blue = new(0, 0, 255);

    [Fact]
    public async Task RedGreenBlueRecording_PlaysRedThenGreenThenBlue_AndSeekingToTheEndShowsBlue()
    {
        await using var playback = await RecordingPlayback.OpenAsync(fixture.Browser, fixture.Node, PlaybackFixture.RedGreenBlue, Timeout);
        await playback.Tab.WaitForColourAsync(Red, Timeout);
        // Every colour the canvas shows, in order, sampled faster than the recording changes at 2x (a colour lasts 1 s).
        await playback.StartColourLogAsync();
        await playback.PlayAsync(2);
        await playback.Tab.WaitForStateAsync("ended", Timeout);

        // The end shows the last screen again (a paused player at the end): runs of one colour count once.
        Assert.Equal([Red, Green, Blue], await playback.ColoursShownAsync(Red, Green, Blue));
        Assert.Equal("End of the recording.", await playback.Tab.StatusAsync());

        await playback.SeekAsync(playback.DurationMs, Blue, Timeout);
        await playback.Tab.SaveScreenshotAsync("playback-page");
    }

    [Fact]
    public async Task HourLongRecording_SeeksAnywhere_ToTheRightScreen_AndThePageMemoryStaysBounded()
    {
        await using var playback = await RecordingPlayback.OpenAsync(fixture.Browser, fixture.Node, PlaybackFixture.Hour, Timeout);
        Assert.Equal(3599_000, playback.DurationMs);
        await playback.Tab.WaitForColourAsync(SyntheticRecording.MinuteColour(0), Timeout);

        var points = new (string Name, long AtMs)[] { ("13:37", (13 * 60 + 37) * 1000), ("42:00", 42 * 60 * 1000), ("the end", playback.DurationMs), ("the start", 0) };
        foreach (var (name, at) in points)
        {
            var took = await playback.SeekAsync(at, SyntheticRecording.MinuteColour((int)(at / 60_000)), Timeout);
            output.WriteLine($"seek to {name} ({at} ms) showed the right screen in {took.TotalMilliseconds:F0} ms");
        }

        var before = await UsedHeapAsync(playback.Tab);
        for (var i = 0; i < 30; i++)
        {
            var at = (i * 7919 % 3600) * 1000L;
            await playback.SeekAsync(at, SyntheticRecording.MinuteColour((int)(at / 60_000)), Timeout);
        }

        var after = await UsedHeapAsync(playback.Tab);
        output.WriteLine($"page JS heap: {before / 1024} KiB after the first seeks, {after / 1024} KiB after 30 more");
        // One connection at a time: 30 seeks must not pile up connections, screens or their buffers.
        Assert.True(after < before + (16L * 1024 * 1024), $"the page's JS heap grew from {before / 1024} KiB to {after / 1024} KiB over 30 seeks");
    }

    [Fact]
    public async Task RecordingCutByANodeFailure_PlaysToWhereItWasCut_AndSaysSo()
    {
        await using var playback = await RecordingPlayback.OpenAsync(fixture.Browser, fixture.Node, PlaybackFixture.Cut, Timeout);
        await playback.Tab.WaitForColourAsync(new Rgb(255, 255, 0), Timeout);
        Assert.True(await playback.Tab.Page.IsVisibleAsync("#cut"), "the page says the recording was cut by a node failure");
    }

    [Fact]
    public async Task InfoCall_GivesTheSeekBarItsMarkers_AndNothingOfTheScreen()
    {
        var (_, ticket) = await RecordingPlayback.IssueAsync(fixture.Node, PlaybackFixture.Hour);
        using var http = new HttpClient();
        var json = await http.GetStringAsync(fixture.Node.HttpUri($"/console/playback/info?ticket={Uri.EscapeDataString(ticket)}"));
        using var info = JsonDocument.Parse(json);
        var root = info.RootElement;
        Assert.Equal(3599_000, root.GetProperty("durationMs").GetInt64());
        Assert.True(root.GetProperty("complete").GetBoolean());
        Assert.Equal("vm-hour", root.GetProperty("vm").GetString());
        Assert.Equal("alice", root.GetProperty("user").GetString());
        Assert.Equal(9, root.GetProperty("inputs").GetArrayLength());
    }

    [Fact]
    public async Task ConsoleTicketOnThePlaybackSocket_IsRefusedWithAReason()
    {
        using var admin = fixture.Node.AdminClient();
        using var response = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = fixture.Token });
        var consoleTicket = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ticket").GetString()!;

        var (status, reason) = await PlaybackSocketCloseAsync(consoleTicket);

        Assert.Equal((WebSocketCloseStatus)4401, status);
        Assert.Contains("playback ticket", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlaybackTicketOnTheConsoleSocket_IsRefusedWithAReason()
    {
        var (_, ticket) = await RecordingPlayback.IssueAsync(fixture.Node, PlaybackFixture.RedGreenBlue);
        await using var client = await ConsoleClient.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Node.Port}/websockify?ticket={Uri.EscapeDataString(ticket)}"));

        var (status, reason) = await client.ReadUntilCloseAsync(Timeout);

        Assert.Equal((WebSocketCloseStatus)4400, status);
        Assert.Contains("playback ticket", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredPlaybackTicket_IsRefusedWithAReason()
    {
        var expired = PlaybackText.Issue(new TicketKey(fixture.TicketSecret), PlaybackFixture.RedGreenBlue, null, DateTimeOffset.UtcNow.AddMinutes(-1));

        var (status, reason) = await PlaybackSocketCloseAsync(expired);

        Assert.Equal((WebSocketCloseStatus)4419, status);
        Assert.Contains("expired", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRecording_GetsNoPlaybackTicket_AndATicketForItIsRefused()
    {
        using var admin = fixture.Node.AdminClient();
        using var response = await admin.PostAsync(new Uri("/api/recordings/no-such-recording/playback", UriKind.Relative), content: null);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var forged = PlaybackText.Issue(new TicketKey(fixture.TicketSecret), "no-such-recording", null, DateTimeOffset.UtcNow.AddMinutes(5));
        var (status, reason) = await PlaybackSocketCloseAsync(forged);
        Assert.Equal((WebSocketCloseStatus)4404, status);
        Assert.Contains("no-such-recording", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientAskingForAnotherPixelFormat_IsRefusedWithBothFormats()
    {
        var (_, ticket) = await RecordingPlayback.IssueAsync(fixture.Node, PlaybackFixture.RedGreenBlue);
        await using var client = await ConsoleClient.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Node.Port}/websockify/playback?ticket={Uri.EscapeDataString(ticket)}"));
        Assert.Equal("RFB 003.008\n"u8.ToArray(), await client.ReadExactlyAsync(12, Timeout));
        await client.SendAsync("RFB 003.008\n"u8.ToArray());
        Assert.Equal(new byte[] { 1, 1 }, await client.ReadExactlyAsync(2, Timeout));
        await client.SendAsync(new byte[] { 1 });
        Assert.Equal(new byte[4], await client.ReadExactlyAsync(4, Timeout));
        await client.SendAsync(new byte[] { 1 });
        await client.ReadExactlyAsync(24 + "synthetic".Length, Timeout);
        // 16 bpp, depth 16, little-endian, true colour, 5-6-5: what a client short of bandwidth might ask for.
        await client.SendAsync(new byte[] { 0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0 });

        var (status, reason) = await client.ReadUntilCloseAsync(Timeout);

        Assert.Equal((WebSocketCloseStatus)4415, status);
        Assert.Contains("32 bpp depth 24 little-endian true colour", reason, StringComparison.Ordinal);
        Assert.Contains("16 bpp depth 16", reason, StringComparison.Ordinal);
    }

    private async Task<(WebSocketCloseStatus? Status, string Reason)> PlaybackSocketCloseAsync(string ticket)
    {
        await using var client = await ConsoleClient.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.Node.Port}/websockify/playback?ticket={Uri.EscapeDataString(ticket)}"));
        var (status, reason) = await client.ReadUntilCloseAsync(Timeout);
        return (status, reason ?? "");
    }

    /// <summary>The page's live JS heap: garbage collected first (CDP HeapProfiler.collectGarbage), so what is left is
    /// what the page holds, not what the collector has not reached yet (each noVNC connection allocates a 4 MiB
    /// receive queue that is garbage once it closed).</summary>
    private static async Task<long> UsedHeapAsync(ConsoleTab tab)
    {
        var cdp = await tab.Page.Context.NewCDPSessionAsync(tab.Page);
        await cdp.SendAsync("HeapProfiler.collectGarbage");
        var usage = await cdp.SendAsync("Runtime.getHeapUsage");
        await cdp.DetachAsync();
        return (long)usage!.Value.GetProperty("usedSize").GetDouble();
    }
}
