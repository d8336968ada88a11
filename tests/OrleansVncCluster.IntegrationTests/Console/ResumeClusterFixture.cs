using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// The production shape for the console's way back (issue 13, items 3 and 7): redis-server, the Abiquo simulator with one
/// VM whose console is a real Xvnc with VncAuth and a VNC password Abiquo knows, two nodes on Redis clustering that sync
/// from it and log in for the user, the shipped haproxy.cfg in front, and Chromium.
/// </summary>
public sealed class ResumeClusterFixture : IAsyncLifetime
{
    /// <summary>The VM's VNC password (8 characters, what VncAuth uses); no page, ticket, log or answer may hold it.</summary>
    public const string VncPassword = "Qz7wLk2m";

    /// <summary>The resume window of the nodes: short, so the presence call (every quarter of it) is seen in a test.</summary>
    public static readonly TimeSpan ResumeWindow = TimeSpan.FromSeconds(40);

    public RedisServer Redis { get; private set; } = null!;
    public XvncServer Desktop { get; private set; } = null!;
    public SimulatorProcess Simulator { get; private set; } = null!;
    public IReadOnlyList<RelayNodeProcess> Nodes { get; private set; } = [];
    public HaproxyServer Haproxy { get; private set; } = null!;
    public ConsoleBrowser Browser { get; private set; } = null!;

    /// <summary>The VM's console token: md5("vdrpIP:vdrpPort"), as the sync writes it.</summary>
    public string Token => SimulatorProcess.TokenOf(Desktop.Port);

    public Uri ConsoleUri(string query) => new($"{Haproxy.BaseUri}console?{query}");

    public async ValueTask InitializeAsync()
    {
        var redis = RedisServer.StartAsync();
        Desktop = await XvncServer.StartAsync(VncPassword, DesktopFixture.ColourHex, 320, 200);
        Simulator = await SimulatorProcess.StartWithTargetsAsync("127.0.0.1", $"127.0.0.1:{Desktop.Port}:{VncPassword}");
        var browser = ConsoleBrowser.LaunchAsync();
        Redis = await redis;

        var cluster = "resume-" + Guid.NewGuid().ToString("N")[..8];
        var secret = Path.Combine(Repo.TempDirectory("resume"), "ticket-secret");
        await File.WriteAllTextAsync(secret, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        RelayNodeSettings Settings(string name) => new()
        {
            RedisConnectionString = Redis.ConnectionString,
            SiloName = name,
            Environment = new(Simulator.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = cluster,
                ["Orleans__ServiceId"] = cluster,
                ["Tickets__SecretFile"] = secret,
                ["Tickets__ResumeWindow"] = ResumeWindow.ToString("c", CultureInfo.InvariantCulture),
                ["Relay__DrainBudget"] = "00:00:02",
            },
        };

        // The first node founds the cluster alone; the second joins it.
        var first = await RelayNodeProcess.StartAsync(Settings("resume-a"));
        Nodes = [first, await RelayNodeProcess.StartAsync(Settings("resume-b"))];
        await Task.WhenAll(Nodes.Select(WaitForDesktopAsync));
        Haproxy = await HaproxyServer.StartAsync(Nodes);
        Browser = await browser;
    }

    /// <summary>A ticket from the admin API of a live node; the whole answer comes back too, to search it for the password.</summary>
    public async Task<(string Ticket, string Answer)> IssueTicketAsync(string role = "control", bool singleUse = true)
    {
        using var admin = Nodes.First(n => !n.Process.HasExited).AdminClient();
        using var issued = await admin.PostAsJsonAsync(new Uri("/api/tickets", UriKind.Relative), new { token = Token, singleUse, role, user = "alice" });
        var answer = await issued.Content.ReadAsStringAsync();
        Assert.True(issued.IsSuccessStatusCode, $"POST /api/tickets answered {(int)issued.StatusCode}: {answer}");
        using var document = JsonDocument.Parse(answer);
        return (document.RootElement.GetProperty("ticket").GetString()!, answer);
    }

    /// <summary>The cluster's live sessions as a live node's admin API lists them.</summary>
    public async Task<JsonElement[]> SessionsAsync()
    {
        using var admin = Nodes.First(n => !n.Process.HasExited).AdminClient();
        using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative)));
        return [.. document.RootElement.GetProperty("sessions").EnumerateArray().Select(s => s.Clone())];
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        if (Haproxy is not null)
        {
            await Haproxy.DisposeAsync();
        }

        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        foreach (var part in new IAsyncDisposable?[] { Simulator, Desktop, Redis })
        {
            if (part is not null)
            {
                await part.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until <paramref name="node"/> has synced the VM and relays its console (the relay's login answers).</summary>
    private async Task WaitForDesktopAsync(RelayNodeProcess node) => await Eventually.HoldsAsync(async () =>
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var result = await client.Socket.ReceiveAsync(new byte[64], timeout.Token);
        return result.MessageType == WebSocketMessageType.Binary;
    }, TimeSpan.FromSeconds(45), $"node {node.Settings.SiloName} synced the VM from the simulator and relays its console");
}
