using System.Diagnostics;
using Microsoft.Playwright;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>One console page: its state (body data-state), sessions it has opened (data-sessions) and the canvas centre.</summary>
internal sealed class ConsolePage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    /// <summary>
    /// True when the page is connected on at least <paramref name="sessions"/> sessions and its canvas centre shows
    /// <paramref name="colour"/>: a canvas that still holds the last frame of a lost session does not count.
    /// </summary>
    public async Task<bool> ShowsAsync((int R, int G, int B) colour, int sessions)
    {
        var seen = await page.EvaluateAsync<int[]>(
            """
            () => {
              const canvas = document.querySelector('#screen canvas');
              const opened = Number(document.body.dataset.sessions ?? '0');
              const connected = document.body.dataset.state === 'connected' ? 1 : 0;
              if (!canvas || !canvas.width || !canvas.height) { return [opened, connected, -1, -1, -1]; }
              const d = canvas.getContext('2d').getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
              return [opened, connected, d[0], d[1], d[2]];
            }
            """);
        return seen[0] >= sessions && seen[1] == 1 && (seen[2], seen[3], seen[4]) == colour;
    }

    /// <summary>How long until <see cref="ShowsAsync"/> holds, polled every 20 ms; null if not within <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan?> TimeUntilShownAsync((int R, int G, int B) colour, int sessions, long since, TimeSpan timeout)
    {
        while (Stopwatch.GetElapsedTime(since) < timeout)
        {
            try
            {
                if (await ShowsAsync(colour, sessions))
                {
                    return Stopwatch.GetElapsedTime(since);
                }
            }
            catch (PlaywrightException)
            {
                // The page is between documents (a navigation): ask again.
            }

            await Task.Delay(20);
        }

        return null;
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}
