using System.Globalization;
using Microsoft.Playwright;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// Debian's headless Chromium driven by Playwright (never a downloaded browser). Each launch gets a fresh temporary
/// profile; each test opens its own <see cref="ConsoleTab"/> in a fresh context, so no cookie or storage leaks between tests.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (scripts/install-deps.sh)");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
            });
            return new ConsoleBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A new tab in a new context (its own cookies and storage), 1024x768 in English.</summary>
    public Task<ConsoleTab> OpenTabAsync() => OpenTabAsync(ConsoleViewport.Default);

    /// <summary>
    /// A new tab in a new context emulating <paramref name="viewport"/>: Playwright applies it with CDP's
    /// Emulation.setDeviceMetricsOverride (size, mobile) and Emulation.setTouchEmulationEnabled (touch) before the page
    /// loads, so the page sees a phone from its first script on; the locale sets navigator.languages.
    /// </summary>
    public async Task<ConsoleTab> OpenTabAsync(ConsoleViewport viewport)
    {
        ArgumentNullException.ThrowIfNull(viewport);
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = viewport.Width, Height = viewport.Height },
            DeviceScaleFactor = 1,
            IsMobile = viewport.Touch,
            HasTouch = viewport.Touch,
            Locale = viewport.Locale,
        });
        var page = await context.NewPageAsync();
        return new ConsoleTab(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}

/// <summary>One browser tab on the console page, with waits on the state the page exposes in the DOM.</summary>
public sealed class ConsoleTab : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _messages = [];
    private readonly Lock _gate = new();

    public ConsoleTab(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) => Remember($"console.{message.Type}: {message.Text}");
        page.PageError += (_, error) => Remember($"page error: {error}");
        page.RequestFailed += (_, request) => Remember($"request failed: {request.Url} {request.Failure}");
    }

    public IPage Page { get; }

    /// <summary>The page's connection state (body data-state).</summary>
    public Task<string> StateAsync() => Page.EvaluateAsync<string>("() => document.body.dataset.state ?? ''");

    /// <summary>The status bar's text.</summary>
    public Task<string> StatusAsync() => Page.EvaluateAsync<string>("() => document.getElementById('status')?.textContent ?? ''");

    /// <summary>A data- attribute of the body (error, closeCode, sessions).</summary>
    public Task<string> BodyDataAsync(string name) =>
        Page.EvaluateAsync<string>("name => document.body.dataset[name] ?? ''", name);

    /// <summary>Waits until the page is in <paramref name="state"/>; the failure names the state and status it was in.</summary>
    public Task WaitForStateAsync(string state, TimeSpan timeout) =>
        WaitAsync(async () => await StateAsync() == state, timeout, $"the console page is '{state}'");

    /// <summary>Waits until <paramref name="condition"/> holds on the page.</summary>
    public async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (PlaywrightException) when (DateTime.UtcNow < deadline)
            {
                // The page is navigating (the Abiquo drop-in hands over to the cluster): ask again.
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:F0} s waiting until {what}. {await DescribeAsync()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The colour at the centre of noVNC's canvas (its framebuffer), or null before the canvas has a size.</summary>
    public async Task<Rgb?> CentrePixelAsync()
    {
        var rgb = await Page.EvaluateAsync<int[]?>(
            """
            () => {
              const canvas = document.querySelector('#screen canvas');
              if (!canvas || !canvas.width || !canvas.height) { return null; }
              const d = canvas.getContext('2d').getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
              return [d[0], d[1], d[2]];
            }
            """);
        return rgb is null ? null : new Rgb(rgb[0], rgb[1], rgb[2]);
    }

    /// <summary>Waits until the canvas shows <paramref name="colour"/> at its centre.</summary>
    public Task WaitForColourAsync(Rgb colour, TimeSpan timeout) =>
        WaitAsync(async () => await CentrePixelAsync() == colour, timeout, $"the canvas shows {colour} at its centre");

    /// <summary>Saves a screenshot next to the test results for people to look at; returns its path.</summary>
    public async Task<string> SaveScreenshotAsync(string name)
    {
        var path = Path.Combine(Repo.ArtifactsDirectory, $"console-{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        return path;
    }

    private async Task<string> DescribeAsync()
    {
        string state;
        try
        {
            state = $"Page {Page.Url} state '{await StateAsync()}', status \"{await StatusAsync()}\", canvas centre {await CentrePixelAsync()}.";
        }
        catch (PlaywrightException exception)
        {
            state = $"Page {Page.Url} could not be read: {exception.Message}.";
        }

        lock (_gate)
        {
            return _messages.Count == 0 ? state : $"{state} Browser said:\n  {string.Join("\n  ", _messages.TakeLast(20))}";
        }
    }

    private void Remember(string message)
    {
        lock (_gate)
        {
            _messages.Add(message);
        }
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}

/// <summary>The screen a test's browser emulates.</summary>
/// <param name="Width">CSS pixels (device scale 1, so screenshots have this size).</param>
/// <param name="Height">CSS pixels.</param>
/// <param name="Touch">A phone: a mobile viewport with touch events and no mouse.</param>
/// <param name="Locale">The browser's language (navigator.languages).</param>
public sealed record ConsoleViewport(int Width, int Height, bool Touch = false, string Locale = "en-US")
{
    /// <summary>The viewport the console tests have always used.</summary>
    public static ConsoleViewport Default { get; } = new(1024, 768);

    /// <summary>A desktop browser window.</summary>
    public static ConsoleViewport Desktop { get; } = new(1280, 800);

    /// <summary>A phone held upright (an iPhone 12-15's CSS size).</summary>
    public static ConsoleViewport Phone { get; } = new(390, 844, Touch: true);
}

/// <summary>An opaque colour.</summary>
public readonly record struct Rgb(int R, int G, int B)
{
    /// <summary>Parses "#rrggbb" (the form xsetroot takes).</summary>
    public static Rgb Parse(string hex) => new(
        int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    public override string ToString() => $"rgb({R}, {G}, {B})";
}
