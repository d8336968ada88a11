using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>The console page served by a node, in Chromium, against a real Xvnc with a VNC password.</summary>
public sealed class ConsolePageTests(SingleNodeConsoleFixture fixture) : IClassFixture<SingleNodeConsoleFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>SetEncodings' JPEG quality 9 (pseudo-encoding -32 + 9) then compression level 0 (-256), big-endian.</summary>
    private static readonly byte[] BestPicture = [0xFF, 0xFF, 0xFF, 0xE9, 0xFF, 0xFF, 0xFF, 0x00];

    [Fact]
    public async Task TokenAndPasswordInTheFragment_ShowTheDesktop_AndThePasswordLeavesTheAddressBar()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}", $"password={DesktopFixture.Password}").ToString());

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("connected");
        Assert.StartsWith("Connected", await tab.StatusAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("password", tab.Page.Url, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WrongPassword_ShowsAnAuthenticationError()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}", "password=wrong123").ToString());

        await tab.WaitForStateAsync("failed", Timeout);
        await tab.SaveScreenshotAsync("authentication-failed");
        Assert.Equal("auth", await tab.BodyDataAsync("error"));
        Assert.StartsWith("Authentication failed", await tab.StatusAsync(), StringComparison.Ordinal);
        Assert.True(await tab.Page.IsVisibleAsync("#password-input"), "the page asks for the password again");
    }

    [Fact]
    public async Task NoPassword_AsksForIt_AndTheTypedPasswordConnects()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}").ToString());
        await tab.WaitForStateAsync("credentials", Timeout);

        await tab.Page.FillAsync("#password-input", DesktopFixture.Password);
        await tab.Page.PressAsync("#password-input", "Enter");

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
    }

    [Fact]
    public async Task UnknownToken_ShowsTheRelaysReasonInWords()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(fixture.ConsoleUri("token=00000000000000000000000000000000", $"password={DesktopFixture.Password}").ToString());

        await AssertFailedWithAsync(tab, "4404", "does not exist or has expired", "unknown console token");
        await tab.SaveScreenshotAsync("unknown-token");
    }

    [Fact]
    public async Task RevokedConsole_ShowsTheRelaysReasonInWords()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.RevocableToken}", $"password={DesktopFixture.Password}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);

        fixture.RevokeRevocableToken();

        await AssertFailedWithAsync(tab, "4410", "This console was revoked", "console revoked");
        await tab.SaveScreenshotAsync("revoked");
    }

    [Fact]
    public async Task UnreachableVm_ShowsTheRelaysReasonInWords()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.UnreachableToken}").ToString());

        await AssertFailedWithAsync(tab, "1011", "could not reach the VM's console", "console target refused the connection");
    }

    [Fact]
    public async Task AutoconnectFalse_WaitsForTheConnectButton()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}&autoconnect=false", $"password={DesktopFixture.Password}").ToString());
        await tab.WaitForStateAsync("idle", Timeout);

        await tab.Page.ClickAsync("#connect-button");

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
    }

    [Fact]
    public async Task CrossOriginPage_CannotOpenTheRelaysWebSocket()
    {
        // Another site on loopback too, so the browser's own private-network rules do not stop the request before the relay sees it.
        await using var site = OtherSite.Start();
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(site.PageUri.ToString());

        var outcome = await tab.Page.EvaluateAsync<string>(
            """
            url => new Promise(resolve => {
              const socket = new WebSocket(url);
              socket.onopen = () => { socket.close(); resolve('opened'); };
              socket.onclose = event => resolve(`closed ${event.code}`);
            })
            """,
            fixture.Node.WebSocketUri(fixture.Token).ToString());

        Assert.Equal("closed 1006", outcome);
        await fixture.Node.Process.WaitForOutputAsync($"origin {site.Origin} is not allowed", Timeout);
    }

    [Fact]
    public async Task PageWithoutToken_SaysHowToOpenAConsole()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(new Uri($"http://127.0.0.1:{fixture.Node.Port}/console").ToString());

        await tab.WaitForStateAsync("failed", Timeout);
        Assert.Contains("No console token", await tab.StatusAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PhoneViewport_KeyboardButtonOpensTheOnScreenKeyboard_AndWhatIsTypedReachesTheVm()
    {
        await using var tab = await fixture.Browser.OpenTabAsync(ConsoleViewport.Phone);
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.FakeVmToken}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);

        await tab.Page.TapAsync("#keyboard-button");
        // A phone's keyboard inserts text into the focused field (CDP Input.insertText), one character at a time.
        foreach (var character in "vm ok")
        {
            await tab.Page.Keyboard.InsertTextAsync(character.ToString());
        }

        await fixture.FakeVm.WaitForSuffixAsync(KeyPresses("vm ok"), Timeout);
        Assert.Equal("keyboard-input", await tab.Page.EvaluateAsync<string>("() => document.activeElement?.id ?? ''"));
        Assert.Equal("true", await tab.Page.GetAttributeAsync("#keyboard-button", "aria-pressed"));
    }

    [Fact]
    public async Task TypeIt_TypesTheClipboardPanelsTextIntoTheVm()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.FakeVmToken}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);

        await tab.Page.ClickAsync("#clipboard-button");
        await tab.Page.FillAsync("#clipboard-text", "ls -l /\n");
        await tab.Page.ClickAsync("#clipboard-type-button");

        await fixture.FakeVm.WaitForSuffixAsync(KeyPresses("ls -l /\n"), Timeout);
    }

    [Fact]
    public async Task PictureScalingAndClipboardChoices_AreRememberedByTheBrowser_AndTheNextSessionAsksForThatPicture()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.FakeVmToken}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);
        var start = fixture.FakeVm.Received.Length;
        await tab.Page.SelectOptionAsync("#picture-select", "best");
        await tab.Page.SelectOptionAsync("#resize-select", "off");
        await tab.Page.ClickAsync("#clipboard-button");
        await fixture.FakeVm.WaitForSequenceAsync(BestPicture, start, Timeout);
        var before = fixture.FakeVm.Received.Length;

        await tab.Page.ReloadAsync();
        await tab.WaitForStateAsync("connected", Timeout);

        Assert.Equal("best", await tab.Page.InputValueAsync("#picture-select"));
        Assert.Equal("off", await tab.Page.InputValueAsync("#resize-select"));
        Assert.True(await tab.Page.IsVisibleAsync("#clipboard-panel"), "the clipboard panel stays open");
        await fixture.FakeVm.WaitForSequenceAsync(BestPicture, before, Timeout);
    }

    [Fact]
    public async Task SpanishBrowser_ShowsThePageAndTheRelaysRefusalInSpanish()
    {
        await using var tab = await fixture.Browser.OpenTabAsync(ConsoleViewport.Default with { Locale = "es-ES" });

        await tab.Page.GotoAsync(fixture.ConsoleUri("token=00000000000000000000000000000000").ToString());

        await tab.WaitForStateAsync("failed", Timeout);
        Assert.Equal("es", await tab.Page.GetAttributeAsync("html", "lang"));
        Assert.StartsWith("Esta consola no existe o ha caducado", await tab.StatusAsync(), StringComparison.Ordinal);
        Assert.Contains("el relay dice: \"unknown console token\", código 4404", await tab.StatusAsync(), StringComparison.Ordinal);
        Assert.Equal("Portapapeles", await tab.Page.TextContentAsync("#clipboard-button"));
    }

    /// <summary>
    /// The page on a phone and on a desktop, as docs/CONSOLE.md shows it: with UPDATE_DOCS_SCREENSHOTS=1 the captures
    /// replace docs/images/console-*.png (commit them); otherwise they go to the test results only.
    /// </summary>
    [Fact]
    public async Task PhoneAndDesktopViewports_AreCapturedAsPngsOfTheirSize()
    {
        var updateDocs = Environment.GetEnvironmentVariable("UPDATE_DOCS_SCREENSHOTS") == "1";
        foreach (var (name, viewport) in new[] { ("phone", ConsoleViewport.Phone), ("desktop", ConsoleViewport.Desktop) })
        {
            await using var tab = await fixture.Browser.OpenTabAsync(viewport);
            await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}", $"password={DesktopFixture.Password}").ToString());
            await tab.WaitForStateAsync("connected", Timeout);
            await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);

            var png = await tab.Page.ScreenshotAsync();

            Assert.Equal((viewport.Width, viewport.Height), PngSize(png));
            await File.WriteAllBytesAsync(Path.Combine(Repo.ArtifactsDirectory, $"console-{name}-viewport.png"), png, TestContext.Current.CancellationToken);
            if (updateDocs)
            {
                await File.WriteAllBytesAsync(Path.Combine(Repo.Root, "docs", "images", $"console-{name}.png"), png, TestContext.Current.CancellationToken);
            }
        }
    }

    /// <summary>RFB KeyEvents (down, then up) for each character of ASCII <paramref name="text"/>; a line break is Return.</summary>
    private static byte[] KeyPresses(string text) =>
    [
        .. text.SelectMany(character =>
        {
            var keysym = character == '\n' ? 0xff0du : character;
            var big = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(big, keysym);
            return (byte[])[4, 1, 0, 0, .. big, 4, 0, 0, 0, .. big];
        }),
    ];

    /// <summary>A PNG's width and height from its IHDR chunk; fails when the bytes are not a PNG.</summary>
    private static (int Width, int Height) PngSize(byte[] png)
    {
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(png.AsSpan().StartsWith(signature), "the capture is a PNG");
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)),
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>The page failed with the relay's close code, and its status names the cause in words and quotes the relay.</summary>
    private static async Task AssertFailedWithAsync(ConsoleTab tab, string closeCode, string sentence, string relayReason)
    {
        await tab.WaitForStateAsync("failed", Timeout);
        var status = await tab.StatusAsync();
        Assert.Equal(closeCode, await tab.BodyDataAsync("closeCode"));
        Assert.Contains(sentence, status, StringComparison.Ordinal);
        Assert.Contains($"relay says: \"{relayReason}\"", status, StringComparison.Ordinal);
    }
}

/// <summary>A plain web site on another loopback port: a page of another origin, as an attacker's would be.</summary>
internal sealed class OtherSite : IAsyncDisposable
{
    private const string Page = "<!DOCTYPE html><title>another site</title>";

    private static readonly byte[] Response = Encoding.ASCII.GetBytes(
        $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {Page.Length}\r\nConnection: close\r\n\r\n{Page}");

    private readonly TcpTarget _server;

    private OtherSite(TcpTarget server)
    {
        _server = server;
        Origin = $"http://127.0.0.1:{server.Port}";
    }

    public string Origin { get; }

    public Uri PageUri => new($"{Origin}/index.html");

    /// <summary>Answers every request with the same small page, then closes the connection.</summary>
    public static OtherSite Start() => new(TcpTarget.Custom(async (stream, cancellation) =>
    {
        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cancellation);
            if (read == 0)
            {
                return;
            }

            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        await stream.WriteAsync(Response, cancellation);
    }));

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
