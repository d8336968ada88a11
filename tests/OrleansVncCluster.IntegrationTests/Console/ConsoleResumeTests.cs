using System.Diagnostics;
using Microsoft.Playwright;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sessions;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// The console through HAProxy to an Abiquo VM whose VNC password only the relay knows (issue 13, items 1, 3 and 7): it
/// opens with security type None, shows who watches, and comes back by itself after its node is killed with SIGKILL.
/// The last test kills a node, so the tests run in the order written.
/// </summary>
[TestMethodOrderer(typeof(DeclarationOrder))]
public sealed class ConsoleResumeTests(ResumeClusterFixture fixture, ITestOutputHelper output) : IClassFixture<ResumeClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Records every state the page passes through, so a test can say the password form never showed.</summary>
    private const string StateRecorder = """
        window.__states = [];
        document.addEventListener('DOMContentLoaded', () => {
          const note = () => window.__states.push(document.body.dataset.state);
          note();
          new MutationObserver(note).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
        });
        """;

    [Fact]
    public async Task AbiquoVmWithAVncPassword_OpensWithSecurityNone_ForAnRfbClientAndForNoVnc_AndThePasswordIsNowhere()
    {
        // An RFB client: the relay logged in with Abiquo's password and offers None only.
        await using (var client = await ConsoleClient.ConnectAsync(fixture.Haproxy.WebSocketUri(fixture.Token), ["binary"]))
        {
            await RelayLoginTests.BrowserSeesNoneAndTheDesktopAsync(client, 320, 200);
        }

        // noVNC in Chromium, opened with a single-use ticket and no password anywhere in its address.
        var (ticket, issued) = await fixture.IssueTicketAsync();
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.AddInitScriptAsync(StateRecorder);
        var presence = tab.Page.WaitForResponseAsync(r => r.Url.Contains("/websockify/presence", StringComparison.Ordinal),
            new() { Timeout = (float)Timeout.TotalMilliseconds });
        await tab.Page.GotoAsync(fixture.ConsoleUri($"ticket={ticket}").ToString());

        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await tab.SaveScreenshotAsync("abiquo-vm-with-password");
        var presenceResponse = await presence;
        var presenceAnswer = await presenceResponse.TextAsync();
        Assert.DoesNotContain("credentials", await tab.Page.EvaluateAsync<string[]>("() => window.__states"));

        // The resume credential: set on the 101, renewed by the presence call, out of reach of the page's scripts.
        var resume = (await tab.Page.Context.CookiesAsync()).Single(c => c.Name.StartsWith("vnc-resume-", StringComparison.Ordinal));
        Assert.Equal(("/websockify", true, SameSiteAttribute.Strict), (resume.Path, resume.HttpOnly, resume.SameSite));
        Assert.StartsWith("vr1.", resume.Value, StringComparison.Ordinal);
        Assert.Equal("", await tab.Page.EvaluateAsync<string>("() => document.cookie"));
        Assert.Contains("vnc-resume-", (await presenceResponse.AllHeadersAsync()).GetValueOrDefault("set-cookie") ?? "", StringComparison.Ordinal);

        var places = new Dictionary<string, string>
        {
            ["the page"] = await tab.Page.ContentAsync(),
            ["the page's address"] = tab.Page.Url,
            ["the ticket"] = ticket,
            ["the resume cookie"] = resume.Value,
            ["POST /api/tickets"] = issued,
            ["the presence answer"] = presenceAnswer,
            ["GET /api/sessions"] = string.Join('\n', (await fixture.SessionsAsync()).Select(s => s.ToString())),
            ["HAProxy's log"] = fixture.Haproxy.Process.Output,
        };
        foreach (var node in fixture.Nodes)
        {
            using var admin = node.AdminClient();
            places[$"{node.Settings.SiloName}'s /metrics"] = await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            places[$"{node.Settings.SiloName}'s log"] = node.Process.Output;
        }

        foreach (var (place, text) in places)
        {
            Assert.False(text.Contains(ResumeClusterFixture.VncPassword, StringComparison.Ordinal), $"the VNC password is in {place}");
        }

        Assert.Contains("\"role\":\"control\"", presenceAnswer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AViewSession_ShowsViewOnly_AndTheOwnersPageAndTheSessionListCountTheViewer()
    {
        var (viewTicket, _) = await fixture.IssueTicketAsync("view");
        await using var viewer = await fixture.Browser.OpenTabAsync();
        await viewer.Page.GotoAsync(fixture.ConsoleUri($"ticket={viewTicket}").ToString());
        await viewer.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await viewer.WaitAsync(async () => await Banner(viewer, "role") == "view", Timeout, "the view page's presence call answers role view");

        var (ownerTicket, _) = await fixture.IssueTicketAsync("control");
        await using var owner = await fixture.Browser.OpenTabAsync();
        await owner.Page.GotoAsync(fixture.ConsoleUri($"ticket={ownerTicket}").ToString());
        await owner.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        await owner.WaitAsync(async () => await Banner(owner, "viewers") == "1", Timeout, "the owner's page says one person watches");

        Assert.Contains("View only", await viewer.Page.InnerTextAsync("#presence"), StringComparison.Ordinal);
        Assert.Contains("1 person watching", await owner.Page.InnerTextAsync("#presence"), StringComparison.Ordinal);
        var sessions = await fixture.SessionsAsync();
        var control = sessions.Single(s => s.GetProperty("role").GetString() == "control");
        Assert.Equal(1, control.GetProperty("viewers").GetInt32());
        Assert.False(control.TryGetProperty("consoleKey", out _), "the grouping key stays inside the cluster");
    }

    [Fact]
    public async Task ASessionClosedByAnAdministrator_IsNotBroughtBackByItsResumeCredential()
    {
        var node = fixture.Nodes[0];
        var (ticket, _) = await fixture.IssueTicketAsync();
        var page = "admin-close-" + Guid.NewGuid().ToString("N")[..12];
        var uri = new Uri(node.WebSocketUri(ticket) + "&resume=" + page);
        var before = (await fixture.SessionsAsync()).Select(s => s.GetProperty("id").GetString()).ToHashSet();
        await using var first = await ConsoleClient.ConnectAsync(uri, configure: o => o.CollectHttpResponseDetails = true);
        var cookie = first.Socket.HttpResponseHeaders!["Set-Cookie"].Single().Split(';')[0];
        Assert.StartsWith($"vnc-resume-{page}=vr1.", cookie, StringComparison.Ordinal);
        await new RfbClient(first).HandshakeAsync(password: null); // the relay logs in: security type None
        string? id = null;
        await Eventually.HoldsAsync(async () =>
        {
            // The one session that was not there before this test connected.
            var added = (await fixture.SessionsAsync()).Where(s => !before.Contains(s.GetProperty("id").GetString())).ToList();
            id = added.Count == 1 && added[0].GetProperty("node").GetString() == node.Settings.SiloName ? added[0].GetProperty("id").GetString() : null;
            return id is not null;
        }, Timeout, $"{node.Settings.SiloName} lists the new session");

        // While the session lives its credential opens the console (the ticket was single-use and is spent).
        var resumeUri = new Uri(node.WebSocketUri(null) + "?resume=" + page);
        await using (var resumed = await ConsoleClient.ConnectAsync(resumeUri, cookie: cookie))
        {
            var rfb = new RfbClient(resumed);
            await rfb.HandshakeAsync(password: null);
            Assert.True(rfb.Width > 0, "the resumed session reached the desktop's ServerInit");
        }

        using (var admin = node.AdminClient())
        using (var deleted = await admin.DeleteAsync(new Uri($"/api/sessions/{id}", UriKind.Relative), TestContext.Current.CancellationToken))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, deleted.StatusCode);
        }

        Assert.Equal((System.Net.WebSockets.WebSocketCloseStatus)1008, (await first.ReadUntilCloseAsync(Timeout)).Status);

        // The same credential, on either node, no longer brings that session back.
        foreach (var other in fixture.Nodes)
        {
            await using var again = await ConsoleClient.ConnectAsync(new Uri(other.WebSocketUri(null) + "?resume=" + page), cookie: cookie);
            var (status, reason) = await again.ReadUntilCloseAsync(Timeout);
            Assert.Equal(((System.Net.WebSockets.WebSocketCloseStatus)4419, "console closed by an administrator: open the console again from the portal"), (status, reason));
        }

        // Logged after the close is sent, by a background writer: wait for it rather than read the output at once.
        await Eventually.HoldsAsync(() => fixture.Nodes.Any(n => n.Process.Output.Contains("an administrator closed that session", StringComparison.Ordinal)),
            Timeout, "a node logs that an administrator closed that session");
    }

    [Fact]
    public async Task KillNine_OfTheNodeCarryingATicketConsole_ThePageShowsTheDesktopAgain_WithoutAnyPrompt()
    {
        var (ticket, _) = await fixture.IssueTicketAsync();
        await using var tab = await fixture.Browser.OpenTabAsync();
        await tab.Page.AddInitScriptAsync(StateRecorder);
        await tab.Page.GotoAsync(fixture.ConsoleUri($"ticket={ticket}").ToString());
        await tab.WaitForStateAsync("connected", Timeout);
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        string? carrierName = null;
        await Eventually.HoldsAsync(async () =>
        {
            // The earlier tests' sessions end as their tabs close; then this page's is the only one.
            var sessions = await fixture.SessionsAsync();
            carrierName = sessions.Length == 1 ? sessions[0].GetProperty("node").GetString() : null;
            return carrierName is not null;
        }, Timeout, "exactly one node carries the console session");
        var carrier = fixture.Nodes.Single(n => n.Settings.SiloName == carrierName);
        var survivor = fixture.Nodes.Single(n => n != carrier);
        var resumedBefore = await ResumedAsync(survivor);

        var killed = Stopwatch.StartNew();
        carrier.Process.Signal("KILL");
        Assert.True(await carrier.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the node dies on SIGKILL");

        // Same page, second session: the single-use ticket was used, so only the resume credential can have opened it.
        await tab.WaitAsync(async () => await tab.BodyDataAsync("sessions") == "2" && await tab.StateAsync() == "connected",
            TimeSpan.FromSeconds(60), "the page reconnects by itself after its node was killed");
        var connectedAfter = killed.Elapsed;
        await tab.WaitForColourAsync(DesktopFixture.Colour, Timeout);
        var desktopAfter = killed.Elapsed;
        await tab.SaveScreenshotAsync("after-kill-9");
        output.WriteLine($"kill -9 of {carrierName}: the page was connected again after {connectedAfter.TotalMilliseconds:F0} ms " +
            $"and showed the desktop after {desktopAfter.TotalMilliseconds:F0} ms, through HAProxy to {survivor.Settings.SiloName}");

        // Issue 17: when the token's grain died with the carrier, the survivor answers the resume from the token's stored
        // record (event 5225) instead of refusing it with 1013 until the dead silo is declared dead.
        var answeredFromStorage = survivor.Process.Output.Contains("against its stored state", StringComparison.Ordinal);
        output.WriteLine($"the resume was checked {(answeredFromStorage ? "against the token's stored record (its grain died with the carrier)" : "by the token's grain")}");
        using (var admin = survivor.AdminClient())
        {
            var metrics = PrometheusText.Parse(await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            Assert.Equal(0, metrics.Value("vnc_relay_sessions_failed_total{reason=\"resume_unanswered\"}"));
        }

        Assert.DoesNotContain("credentials", await tab.Page.EvaluateAsync<string[]>("() => window.__states"));
        Assert.True(await tab.Page.IsHiddenAsync("#credentials-form"), "no password form is shown");
        Assert.Equal(resumedBefore + 1, await ResumedAsync(survivor));
    }

    private static async Task<double> ResumedAsync(RelayNodeProcess node)
    {
        using var admin = node.AdminClient();
        var metrics = PrometheusText.Parse(await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        return metrics.Value("vnc_relay_sessions_resumed_total");
    }

    private static Task<string> Banner(ConsoleTab tab, string name) =>
        tab.Page.EvaluateAsync<string>($"() => document.getElementById('presence')?.dataset.{name} ?? ''");
}
