using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>One relay node with tickets on, in front of the desktops of <see cref="DesktopFixture"/>, reached directly.</summary>
public sealed class ShareConsoleFixture : DesktopFixture
{
    public RelayNodeProcess Node { get; private set; } = null!;

    public Uri ConsoleUri(string fragment) => new($"http://127.0.0.1:{Node.Port}/console#{fragment}");

    /// <summary>Asks the node's admin API for a ticket to the fake VM; the whole answer and its status come back.</summary>
    public async Task<(int Status, string Answer)> PostTicketAsync(object request)
    {
        using var admin = Node.AdminClient();
        using var issued = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), request);
        return ((int)issued.StatusCode, await issued.Content.ReadAsStringAsync());
    }

    /// <summary>A single-use control ticket to the fake VM for "alice", allowed to share or not.</summary>
    public async Task<string> IssueTicketAsync(bool share)
    {
        var (status, answer) = await PostTicketAsync(new { token = FakeVmToken, role = "control", user = "alice", share });
        Assert.True(status == 200, $"POST /api/tickets answered {status}: {answer}");
        using var document = JsonDocument.Parse(answer);
        return document.RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>The node's live sessions as its admin API lists them.</summary>
    public async Task<JsonElement[]> SessionsAsync()
    {
        using var admin = Node.AdminClient();
        using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative)));
        return [.. document.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.Clone())];
    }

    protected override async Task StartRelaysAsync()
    {
        var ticketSecret = Path.Combine(Repo.TempDirectory("share"), "ticket-secret");
        await File.WriteAllTextAsync(ticketSecret, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFile,
            SiloName = "share",
            Environment = { ["Tickets__SecretFile"] = ticketSecret },
        });
        await WaitForTokenAsync(Node);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
