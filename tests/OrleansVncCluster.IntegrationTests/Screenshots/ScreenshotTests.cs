using System.Net;
using System.Net.Http.Headers;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sessions;
using SkiaSharp;

namespace OrleansVncCluster.IntegrationTests.Screenshots;

/// <summary>One node, a red Xvnc with a VNC password the node knows (Tokens:PasswordFiles), and a VNC server that
/// accepts and never speaks; screenshots allow one at a time and 2 s each, so the limits show quickly.</summary>
public sealed class ScreenshotFixture : IAsyncLifetime
{
    public const string Password = "Sh0tPw9x";
    public const int Width = 320;
    public const int Height = 200;

    public XvncServer Desktop { get; private set; } = null!;
    public TcpTarget Silent { get; } = TcpTarget.Custom(async (stream, ct) => await Task.Delay(Timeout.Infinite, ct));
    public RelayNodeProcess Node { get; private set; } = null!;
    public string RedToken { get; } = "shot-red-" + Guid.NewGuid().ToString("N")[..8];
    public string SilentToken { get; } = "shot-silent-" + Guid.NewGuid().ToString("N")[..8];

    public async ValueTask InitializeAsync()
    {
        Desktop = await XvncServer.StartAsync(Password, "#ff0000", Width, Height);
        var directory = Repo.TempDirectory("screenshots");
        var passwords = Path.Combine(directory, "vnc-passwords");
        await File.WriteAllTextAsync(passwords, $"{RedToken}: {Password}\n");
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (RedToken, $"127.0.0.1:{Desktop.Port}"), (SilentToken, $"127.0.0.1:{Silent.Port}")),
            SiloName = "screenshots",
            Environment = new Dictionary<string, string?>
            {
                ["Tokens__PasswordFiles__0"] = passwords,
                ["Screenshots__MaxConcurrent"] = "1",
                ["Screenshots__Timeout"] = "00:00:02",
            },
        });
        using var admin = Node.AdminClient();
        await Eventually.HoldsAsync(async () => (await admin.GetAsync(ScreenshotTests.Path(RedToken))).StatusCode != HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(20), "the token file is loaded");
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Silent.DisposeAsync();
        await Desktop.DisposeAsync();
    }
}

/// <summary>GET /api/screenshot against real Xvnc (issue 13, item 6).</summary>
public sealed class ScreenshotTests(ScreenshotFixture fixture) : IClassFixture<ScreenshotFixture>
{
    public static string Path(string token, string? width = null) =>
        $"/api/screenshot?token={Uri.EscapeDataString(token)}" + (width is null ? "" : $"&width={width}");

    [Fact]
    public async Task RedDesktop_GivesARedPng_ScaledOnRequest_WhileALiveConsoleCarriesOn()
    {
        await using var console = await RelayLoginTests.OpenAsync(fixture.Node, fixture.RedToken);
        await RelayLoginTests.BrowserSeesNoneAndTheDesktopAsync(console, ScreenshotFixture.Width, ScreenshotFixture.Height);
        using var admin = fixture.Node.AdminClient();

        using var full = await admin.GetAsync(Path(fixture.RedToken));
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("image/png", full.Content.Headers.ContentType?.MediaType);
        Assert.True(full.Headers.CacheControl?.NoStore, "a screen must not be cached on the way");
        using (var png = SKBitmap.Decode(await full.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)))
        {
            Assert.Equal((ScreenshotFixture.Width, ScreenshotFixture.Height), (png.Width, png.Height));
            foreach (var (x, y) in new[] { (0, 0), (160, 100), (319, 199) })
            {
                Assert.Equal(new SKColor(0xff, 0, 0, 0xff), png.GetPixel(x, y));
            }
        }

        using var thumbnail = await admin.GetAsync(Path(fixture.RedToken, "80"));
        using (var png = SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)))
        {
            Assert.Equal((80, 50), (png.Width, png.Height));
        }

        // The live console was not kicked: it still answers an update request with a FramebufferUpdate.
        await console.SendAsync(new byte[] { 3, 0, 0, 0, 0, 0, 0, 16, 0, 16 });
        Assert.Equal(0, (await console.ReadExactlyAsync(1, TimeSpan.FromSeconds(15)))[0]);
        Assert.DoesNotContain(ScreenshotFixture.Password, fixture.Node.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatNeverSpeaks_Is504AtTheDeadline_AndOneMoreMeanwhileIs429()
    {
        using var admin = fixture.Node.AdminClient();
        var accepted = fixture.Silent.Accepted;
        var stuck = admin.GetAsync(Path(fixture.SilentToken));
        await Eventually.HoldsAsync(() => fixture.Silent.Accepted > accepted, TimeSpan.FromSeconds(10), "the node dialled the silent server");

        using var busy = await admin.GetAsync(Path(fixture.RedToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.Contains("Screenshots:MaxConcurrent", await busy.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var timedOut = await stuck;
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        Assert.Contains("Screenshots:Timeout", await timedOut.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        await fixture.Node.Process.WaitForOutputAsync("No screenshot of console", TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("unknown-token-123", null, HttpStatusCode.NotFound)]
    [InlineData("", null, HttpStatusCode.BadRequest)]
    [InlineData("RED", "8", HttpStatusCode.BadRequest)]
    [InlineData("RED", "wide", HttpStatusCode.BadRequest)]
    public async Task BadRequests_GetAClearStatus(string token, string? width, HttpStatusCode expected)
    {
        using var admin = fixture.Node.AdminClient();
        using var response = await admin.GetAsync(Path(token == "RED" ? fixture.RedToken : token, width));
        Assert.Equal(expected, response.StatusCode);
        Assert.NotEmpty(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ThePublicListener_DoesNotServeScreenshots_WhateverTheHost()
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, fixture.Node.HttpUri(Path(fixture.RedToken)));
        request.Headers.Host = $"127.0.0.1:{fixture.Node.AdminPort}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RelayNodeProcess.AdminToken);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
