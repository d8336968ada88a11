using System.Net.Http.Json;
using Microsoft.Playwright;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>The console as users reach it: through HAProxy to one of two nodes, to a real Xvnc with a VNC password.</summary>
public sealed class ConsoleThroughHaproxyTests(HaproxyConsoleFixture fixture) : IClassFixture<HaproxyConsoleFixture>
{
    private const string AbiquoUi = "http://abiquo-ui.test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ThroughHaproxy_TheConsoleShowsTheDesktop()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();

        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}", $"password={DesktopFixture.Password}").ToString());

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("through-haproxy");
    }

    [Fact]
    public async Task WithATicketInTheFragment_TheConsoleShowsTheDesktop()
    {
        string ticket;
        using (var admin = fixture.Nodes[0].AdminClient())
        using (var issued = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = fixture.Token, singleUse = true }))
        {
            issued.EnsureSuccessStatusCode();
            using var document = System.Text.Json.JsonDocument.Parse(await issued.Content.ReadAsStringAsync());
            ticket = document.RootElement.GetProperty("ticket").GetString()!;
        }

        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri("", $"ticket={ticket}&password={DesktopFixture.Password}").ToString());

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("with-ticket");
        // The page took the ticket (and the password) out of its address once it read them: history holds neither.
        Assert.DoesNotContain(ticket, tab.Page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("ticket=", tab.Page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain(DesktopFixture.Password, tab.Page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HaproxysLog_OfAConsoleSession_HoldsThePathButNoTokenTicketOrPassword()
    {
        const string ticket = "vt1.k1.not-a-real-ticket-body.mac";
        await using (var session = await ConsoleClient.ConnectAsync(fixture.Haproxy.WebSocketUri(fixture.Token)))
        {
            // The RFB banner proves the session reached the VNC server through HAProxy.
            Assert.Equal("RFB 003.008\n"u8.ToArray(), await session.ReadExactlyAsync(12, Timeout));
            await session.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        using (var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }))
        using (await http.GetAsync(fixture.ConsoleUri($"token={fixture.Token}&ticket={ticket}&password={DesktopFixture.Password}")))
        {
        }

        // HAProxy logs a tunnel when it ends and a plain request when it is answered; wait for both lines.
        string[] lines = [];
        await Eventually.HoldsAsync(() =>
        {
            lines = [.. fixture.Haproxy.Process.Output.Split('\n').Where(l => l.Contains(" be_relay/", StringComparison.Ordinal))];
            return lines.Any(l => l.Contains("GET /websockify", StringComparison.Ordinal) && l.Contains(" 101 ", StringComparison.Ordinal))
                && lines.Any(l => l.Contains("GET /console", StringComparison.Ordinal));
        }, Timeout, "HAProxy logs the console session (101 on /websockify) and the console page request");

        var log = string.Join('\n', lines);
        Assert.Contains("GET /websockify HTTP/1.1", log, StringComparison.Ordinal);
        Assert.Contains("GET /console HTTP/1.1", log, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Token, log, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Token[..8], log, StringComparison.Ordinal);
        Assert.DoesNotContain(ticket, log, StringComparison.Ordinal);
        Assert.DoesNotContain(DesktopFixture.Password, log, StringComparison.Ordinal);
        Assert.DoesNotContain("?", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AbiquoDropIn_GivenAddressPortAndPassword_ConnectsThroughTheCluster()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await ServeAbiquoDropInAsync(tab.Page, fixture.Haproxy.BaseUri);

        await tab.Page.GotoAsync(
            $"{AbiquoUi}/ui/lib/remoteaccess/tightvnc/tightvnc.html?vncIP={fixture.VncAddress}&vncPort={fixture.VncPort}&password={DesktopFixture.Password}");

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("abiquo-drop-in");
        Assert.StartsWith($"{fixture.Haproxy.BaseUri}console?token={fixture.Token}", tab.Page.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("password", tab.Page.Url, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AbiquoDropIn_WithoutTheVmsAddress_SaysWhatIsMissing()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await ServeAbiquoDropInAsync(tab.Page, fixture.Haproxy.BaseUri);

        await tab.Page.GotoAsync($"{AbiquoUi}/tightvnc.html?password=x");

        await tab.WaitForStateAsync("failed", Timeout);
        Assert.Contains("vncIP and vncPort", await tab.StatusAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainingTheNodeThatCarriesTheSession_ThePageReconnectsThroughHaproxyToAnotherNode()
    {
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.GotoAsync(fixture.ConsoleUri($"token={fixture.Token}", $"password={DesktopFixture.Password}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        var carrier = await NodeCarryingTheOnlySessionAsync();

        using (var admin = carrier.AdminClient())
        using (var drained = await admin.PostAsync(new Uri("/api/drain", UriKind.Relative), null))
        {
            drained.EnsureSuccessStatusCode();
        }

        // Same page, second session: it was not reloaded, it reconnected by itself.
        await tab.WaitAsync(async () => await tab.BodyDataAsync("sessions") == "2" && await tab.StateAsync() == "connected",
            TimeSpan.FromSeconds(60), "the page reconnects by itself after the drain");
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("after-drain");
        var other = fixture.Nodes.Single(node => node != carrier);
        await Eventually.HoldsAsync(async () => await DesktopFixture.LiveSessionsAsync(other) == 1, Timeout,
            $"the session lives on {other.Settings.SiloName} after {carrier.Settings.SiloName} drained");
    }

    /// <summary>The node with the one live session (sessions of earlier tests end when their tabs close).</summary>
    private async Task<RelayNodeProcess> NodeCarryingTheOnlySessionAsync()
    {
        RelayNodeProcess? carrier = null;
        await Eventually.HoldsAsync(async () =>
        {
            var counts = await Task.WhenAll(fixture.Nodes.Select(DesktopFixture.LiveSessionsAsync));
            carrier = counts.Sum() == 1 ? fixture.Nodes[Array.IndexOf(counts, 1)] : null;
            return carrier is not null;
        }, Timeout, "exactly one node carries the console session");
        return carrier!;
    }

    /// <summary>
    /// Serves deploy/abiquo-ui as Abiquo's web server would, from another origin, with tightvnc-config.js pointing at the
    /// cluster (HAProxy), the way an operator installs it.
    /// </summary>
    private static Task ServeAbiquoDropInAsync(IPage page, Uri cluster) =>
        page.RouteAsync($"{AbiquoUi}/**", async route =>
        {
            var name = Path.GetFileName(new Uri(route.Request.Url).AbsolutePath);
            var file = Path.Combine(Repo.Root, "deploy", "abiquo-ui", name);
            if (name.Length == 0 || !File.Exists(file))
            {
                await route.FulfillAsync(new RouteFulfillOptions { Status = 404 });
                return;
            }

            var body = await File.ReadAllTextAsync(file);
            if (name == "tightvnc-config.js")
            {
                body = body.Replace("clusterUrl: ''", $"clusterUrl: '{cluster}'", StringComparison.Ordinal);
            }

            var type = Path.GetExtension(name) switch
            {
                ".js" => "text/javascript",
                ".css" => "text/css",
                _ => "text/html",
            };
            await route.FulfillAsync(new RouteFulfillOptions { Body = body, ContentType = type });
        });
}
