using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// The console page's "share view-only link" button (issue 14) in Chromium against one node and the fake VNC server: a
/// control ticket issued with share shows the button, its link opens a view-only console in another browser while the
/// owner stays connected; a ticket without share shows no button and the share call is refused.
/// </summary>
public sealed class ConsoleShareTests(ShareConsoleFixture fixture) : IClassFixture<ShareConsoleFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AControlTicketWithShare_ShowsTheButton_AndItsLinkOpensAViewOnlyConsole_WhileTheOwnerStaysConnected()
    {
        await using var owner = await fixture.Browser.OpenTabAsync();
        await owner.Page.GotoAsync(fixture.ConsoleUri($"ticket={await fixture.IssueTicketAsync(share: true)}").ToString());
        await owner.WaitForStateAsync("connected", Timeout);
        await owner.WaitAsync(() => owner.Page.IsVisibleAsync("#share-button"), Timeout, "the owner's page shows the share button");

        await owner.Page.ClickAsync("#share-button");
        await owner.WaitAsync(async () => (await owner.Page.InputValueAsync("#share-link")).Length > 0, Timeout, "the share panel shows a link");
        var link = await owner.Page.InputValueAsync("#share-link");
        await owner.SaveScreenshotAsync("share-panel");
        Assert.StartsWith($"http://127.0.0.1:{fixture.Node.Port}/console#ticket=vt2.", link, StringComparison.Ordinal);
        Assert.Contains("once, view only", await owner.Page.InnerTextAsync("#share-note"), StringComparison.Ordinal);

        // Another browser (its own cookies), as the helper the link was sent to.
        await using var viewer = await fixture.Browser.OpenTabAsync();
        await viewer.Page.GotoAsync(link);
        await viewer.WaitForStateAsync("connected", Timeout);
        await viewer.WaitAsync(async () => await Banner(viewer, "role") == "view", Timeout, "the viewer's presence call answers role view");
        await viewer.SaveScreenshotAsync("shared-view-only");

        Assert.Contains("View only", await viewer.Page.InnerTextAsync("#presence"), StringComparison.Ordinal);
        Assert.True(await viewer.Page.IsHiddenAsync("#share-button"), "a view page has no share button");
        // Neither was kicked: both sessions live on the node (once another test's closed tab has ended its own), and the
        // owner's page is still on its first session.
        string[] sessions = [];
        await Eventually.HoldsAsync(async () =>
        {
            sessions = [.. (await fixture.SessionsAsync()).Select(s => $"{s.GetProperty("role").GetString()} {s.GetProperty("user").GetString()}").Order(StringComparer.Ordinal)];
            return sessions.SequenceEqual(["control alice", "view shared by alice"]);
        }, Timeout, "the node lists the owner's control session and the helper's view session, and no other");
        Assert.Equal(("connected", "1"), (await owner.StateAsync(), await owner.BodyDataAsync("sessions")));
        var log = fixture.Node.Process.Output;
        Assert.Contains("User alice shared a view-only link", log, StringComparison.Ordinal);
        Assert.DoesNotContain(link[(link.IndexOf("vt2.", StringComparison.Ordinal) + 4)..], log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AControlTicketWithoutShare_ShowsNoButton_AndTheShareCallIsRefused()
    {
        await using var owner = await fixture.Browser.OpenTabAsync();
        var presence = owner.Page.WaitForRequestAsync(r => r.Url.Contains("/websockify/presence", StringComparison.Ordinal),
            new() { Timeout = (float)Timeout.TotalMilliseconds });
        await owner.Page.GotoAsync(fixture.ConsoleUri($"ticket={await fixture.IssueTicketAsync(share: false)}").ToString());
        await owner.WaitForStateAsync("connected", Timeout);
        await owner.WaitAsync(async () => await Banner(owner, "role") == "control", Timeout, "the owner's presence call answers role control");

        Assert.True(await owner.Page.IsHiddenAsync("#share-button"), "no share button without the ticket's share flag");
        // The page's own share call, with its resume cookie, as a script of the page would make it.
        var share = (await presence).Url.Replace("/presence?", "/share?", StringComparison.Ordinal);
        var answer = await owner.Page.EvaluateAsync<JsonElement>(
            "async url => { const r = await fetch(url, { method: 'POST' }); return { status: r.status, text: await r.text() }; }", share);
        Assert.Equal(403, answer.GetProperty("status").GetInt32());
        Assert.Contains("does not allow sharing", answer.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AViewTicketAskingToShare_IsRefusedWithTheReason()
    {
        var (status, answer) = await fixture.PostTicketAsync(new { token = fixture.FakeVmToken, role = "view", share = true });

        Assert.Equal(400, status);
        Assert.Contains("share is for control tickets only", answer, StringComparison.Ordinal);
    }

    private static Task<string> Banner(ConsoleTab tab, string name) =>
        tab.Page.EvaluateAsync<string>($"() => document.getElementById('presence')?.dataset.{name} ?? ''");
}
