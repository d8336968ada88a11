using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>
/// A recording played in Chromium through the playback page, as an administrator would: a playback ticket from the
/// admin API (<c>POST /api/recordings/ID/playback</c>), the page it names, and the canvas read at its centre. Works for
/// any recording a node can open, synthetic or recorded from a real Xvnc session.
/// </summary>
public sealed class RecordingPlayback : IAsyncDisposable
{
    private RecordingPlayback(ConsoleTab tab, long durationMs)
    {
        Tab = tab;
        DurationMs = durationMs;
    }

    /// <summary>The browser tab showing the playback page.</summary>
    public ConsoleTab Tab { get; }

    /// <summary>The recording's length as the page's info call gave it.</summary>
    public long DurationMs { get; }

    /// <summary>Asks <paramref name="node"/>'s admin API for a playback ticket for <paramref name="recordingId"/>: the
    /// page URL (relative) and the ticket.</summary>
    public static async Task<(string Url, string Ticket)> IssueAsync(RelayNodeProcess node, string recordingId)
    {
        using var admin = node.AdminClient();
        using var response = await admin.PostAsync(new Uri($"/api/recordings/{recordingId}/playback", UriKind.Relative), content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /api/recordings/{recordingId}/playback answered {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return (document.RootElement.GetProperty("url").GetString()!, document.RootElement.GetProperty("ticket").GetString()!);
    }

    /// <summary>Opens recording <paramref name="recordingId"/> of <paramref name="node"/> in a new tab and waits until
    /// it shows its start, paused.</summary>
    public static async Task<RecordingPlayback> OpenAsync(ConsoleBrowser browser, RelayNodeProcess node, string recordingId, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(browser);
        var (url, _) = await IssueAsync(node, recordingId);
        var tab = await browser.OpenTabAsync();
        try
        {
            await tab.Page.GotoAsync(node.HttpUri(url).ToString());
            await tab.WaitForStateAsync("paused", timeout);
            var duration = await tab.Page.EvaluateAsync<long>("() => Number(document.getElementById('seek').max)");
            return new RecordingPlayback(tab, duration);
        }
        catch
        {
            await tab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Moves the seek bar to <paramref name="atMs"/> as a user's drag ends, and returns how long it took until
    /// the canvas showed <paramref name="expected"/> (the failure names the moment and the colour).</summary>
    public async Task<TimeSpan> SeekAsync(long atMs, Rgb expected, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        await Tab.Page.EvaluateAsync("ms => { const s = document.getElementById('seek'); s.value = String(ms); s.dispatchEvent(new Event('change')); }", atMs);
        await Tab.WaitAsync(async () => await Tab.BodyDataAsync("at") == atMs.ToString(CultureInfo.InvariantCulture) && await Tab.CentrePixelAsync() == expected,
            timeout, $"after a seek to {atMs} ms the canvas shows {expected}");
        return watch.Elapsed;
    }

    /// <summary>Chooses <paramref name="speed"/> and presses Play.</summary>
    public async Task PlayAsync(int speed)
    {
        await Tab.Page.SelectOptionAsync("#speed-select", speed.ToString(CultureInfo.InvariantCulture));
        await Tab.Page.ClickAsync("#play-button");
    }

    /// <summary>Starts noting every colour the canvas centre shows, sampled every 20 ms (faster than any recording here
    /// changes); <see cref="ColoursShownAsync"/> reads the notes.</summary>
    public Task StartColourLogAsync() => Tab.Page.EvaluateAsync("""
        () => {
          window.__colours = [];
          setInterval(() => {
            const canvas = document.querySelector('#screen canvas');
            if (!canvas || !canvas.width) { return; }
            const d = canvas.getContext('2d').getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
            const colour = `${d[0]},${d[1]},${d[2]}`;
            if (window.__colours.at(-1) !== colour) { window.__colours.push(colour); }
          }, 20);
        }
        """);

    /// <summary>The colours of <paramref name="wanted"/> the canvas showed since <see cref="StartColourLogAsync"/>, in order,
    /// each run of one colour once (others, such as the black before the first frame, are left out).</summary>
    public async Task<List<Rgb>> ColoursShownAsync(params Rgb[] wanted)
    {
        var names = wanted.ToDictionary(c => $"{c.R},{c.G},{c.B}");
        var seen = (await Tab.Page.EvaluateAsync<string[]>("() => window.__colours")).Where(names.ContainsKey).Select(c => names[c]).ToList();
        return [.. seen.Where((colour, i) => i == 0 || seen[i - 1] != colour)];
    }

    public ValueTask DisposeAsync() => Tab.DisposeAsync();
}
