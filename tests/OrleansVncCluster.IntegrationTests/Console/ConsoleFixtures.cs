using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>What every console fixture has: a real Xvnc desktop with a VNC password, painted a known colour, and a browser.</summary>
public abstract class DesktopFixture : IAsyncLifetime
{
    public const string Password = "secret12";
    public const string ColourHex = "#3366cc";

    public static readonly Rgb Colour = Rgb.Parse(ColourHex);

    public XvncServer Desktop { get; private set; } = null!;
    public ConsoleBrowser Browser { get; private set; } = null!;

    /// <summary>The VM's VNC address as Abiquo knows it (vdrpIP, vdrpPort).</summary>
    public string VncAddress => "127.0.0.1";

    public int VncPort => Desktop.Port;

    /// <summary>The token Abiquo's sync gives this desktop: md5("vdrpIP:vdrpPort").</summary>
    public string Token => Md5Token($"{VncAddress}:{VncPort}");

    /// <summary>A second token for the same desktop, which the revocation test removes from the token file.</summary>
    public string RevocableToken { get; } = "revocable-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A token whose target is a loopback port nobody listens on.</summary>
    public string UnreachableToken { get; } = "unreachable-" + Guid.NewGuid().ToString("N")[..12];

    public string TokenFile { get; private set; } = "";

    /// <summary>A fake VNC server that records what the page sends (keys, encodings), without a password.</summary>
    public RecordingRfbServer FakeVm { get; } = new();

    /// <summary>The token of <see cref="FakeVm"/>.</summary>
    public string FakeVmToken { get; } = "fake-vm-" + Guid.NewGuid().ToString("N")[..12];

    private string UnreachableTarget { get; } = $"127.0.0.1:{Ports.Free()}";

    /// <summary>Rewrites the token file without <see cref="RevocableToken"/>: the relay revokes its live sessions.</summary>
    public void RevokeRevocableToken() =>
        TokenFiles.Rewrite(TokenFile, (Token, $"{VncAddress}:{VncPort}"), (UnreachableToken, UnreachableTarget), FakeVmEntry);

    private (string Token, string Target) FakeVmEntry => (FakeVmToken, $"127.0.0.1:{FakeVm.Port}");

    public async ValueTask InitializeAsync()
    {
        Desktop = await XvncServer.StartAsync(Password, ColourHex);
        TokenFile = TokenFiles.Write(Repo.TempDirectory("console"),
            (Token, $"{VncAddress}:{VncPort}"), (RevocableToken, $"{VncAddress}:{VncPort}"), (UnreachableToken, UnreachableTarget), FakeVmEntry);
        Browser = await ConsoleBrowser.LaunchAsync();
        await StartRelaysAsync();
    }

    protected abstract Task StartRelaysAsync();

    public virtual async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        if (Desktop is not null)
        {
            await Desktop.DisposeAsync();
        }

        await FakeVm.DisposeAsync();
    }

    /// <summary>Waits until <paramref name="node"/> resolves the token (token files load in the background).</summary>
    protected async Task WaitForTokenAsync(RelayNodeProcess node) => await Eventually.HoldsAsync(async () =>
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var result = await client.Socket.ReceiveAsync(new byte[64], timeout.Token);
        return result.MessageType == WebSocketMessageType.Binary;
    }, TimeSpan.FromSeconds(30), $"node {node.Settings.SiloName} relays the desktop's token to Xvnc");

    /// <summary>How many live sessions a node reports through its admin API.</summary>
    public static async Task<int> LiveSessionsAsync(RelayNodeProcess node)
    {
        using var admin = node.AdminClient();
        using var document = JsonDocument.Parse(await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative)));
        return document.RootElement.GetProperty("sessions").GetArrayLength();
    }

    // MD5 names a console here (the Abiquo token scheme), it protects nothing.
#pragma warning disable CA5351
    private static string Md5Token(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
}

/// <summary>One relay node in front of the desktop, reached directly.</summary>
public sealed class SingleNodeConsoleFixture : DesktopFixture
{
    public RelayNodeProcess Node { get; private set; } = null!;

    public Uri ConsoleUri(string query, string fragment = "") =>
        new($"http://127.0.0.1:{Node.Port}/console?{query}{(fragment.Length > 0 ? "#" + fragment : "")}");

    protected override async Task StartRelaysAsync()
    {
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { TokenFile = TokenFile, SiloName = "console" });
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

/// <summary>
/// Two relay nodes behind HAProxy (the repository's haproxy.cfg), each with the desktop's token, as in production:
/// users only ever see HAProxy's address.
/// </summary>
public sealed class HaproxyConsoleFixture : DesktopFixture
{
    public IReadOnlyList<RelayNodeProcess> Nodes { get; private set; } = [];
    public HaproxyServer Haproxy { get; private set; } = null!;

    public Uri ConsoleUri(string query, string fragment = "") =>
        new($"{Haproxy.BaseUri}console?{query}{(fragment.Length > 0 ? "#" + fragment : "")}");

    protected override async Task StartRelaysAsync()
    {
        var ticketSecret = Path.Combine(Repo.TempDirectory("console"), "ticket-secret");
        await File.WriteAllTextAsync(ticketSecret, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        // A short drain budget: the drain test waits for it before the page is sent elsewhere.
        var nodes = await Task.WhenAll(new[] { "relay-a", "relay-b" }.Select(name => RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFile,
            SiloName = name,
            Environment = { ["Relay__DrainBudget"] = "00:00:02", ["Tickets__SecretFile"] = ticketSecret },
        })));
        Nodes = nodes;
        await Task.WhenAll(nodes.Select(WaitForTokenAsync));
        Haproxy = await HaproxyServer.StartAsync(nodes);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Haproxy is not null)
        {
            await Haproxy.DisposeAsync();
        }

        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}
