using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>The console page served by a node, in Chromium, against a real Xvnc with a VNC password.</summary>
public sealed class ConsolePageTests(SingleNodeConsoleFixture fixture) : IClassFixture<SingleNodeConsoleFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

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
