using System.Diagnostics;
using Microsoft.Playwright;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>
/// Debian's headless Chromium driven by Playwright (no browser download; the integration tests' ConsoleBrowser does the
/// same), for the failover workload's console page: open the page, read its state and the colour at the canvas centre.
/// </summary>
internal sealed class ConsolePageBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ConsolePageBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<ConsolePageBrowser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            return new ConsolePageBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh context (its own cookies, so its own resume credential) with one page at <paramref name="url"/>.</summary>
    public async Task<ConsolePage> OpenAsync(Uri url)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 800, Height = 600 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(url.ToString());
        return new ConsolePage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}
