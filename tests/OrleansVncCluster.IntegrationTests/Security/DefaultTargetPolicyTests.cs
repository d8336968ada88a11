using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>A node with no Limits:AllowedTargetNetworks, a loopback echo desktop and tokens aimed at places a console must never reach.</summary>
public sealed class DefaultTargetPolicyFixture : IAsyncLifetime
{
    public TcpTarget Echo { get; } = TcpTarget.Echo();
    public RelayNodeProcess Node { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var adminPort = Ports.Free();
        var siloPort = Ports.Free();
        var file = TokenFiles.Write(Repo.TempDirectory("default-targets"),
            ("metadata", "169.254.169.254:80"),
            ("admin", $"127.0.0.1:{adminPort}"),
            ("silo", $"127.0.0.1:{siloPort}"),
            ("desktop", $"127.0.0.1:{Echo.Port}"));
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { TokenFile = file, SiloName = "default-targets" }, siloPort: siloPort, adminPort: adminPort);

        // The token file is applied in the background (after its settle time): until then every token is unknown.
        await using var desktop = await ConsoleClient.OpenEchoingAsync(Node, "desktop");
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Echo.DisposeAsync();
    }
}

/// <summary>
/// A target policy by default (issue 12, item 8): with no allow-list configured, a token aimed at the cloud metadata
/// address, at the node's admin port or at its silo port is refused with a reason the browser can show, while a loopback
/// desktop (what `make run` serves) still relays.
/// </summary>
public sealed class DefaultTargetPolicyTests(DefaultTargetPolicyFixture fixture) : IClassFixture<DefaultTargetPolicyFixture>
{
    private readonly RelayNodeProcess _node = fixture.Node;

    [Theory]
    [InlineData("metadata", "reserved")]
    [InlineData("admin", "own endpoint")]
    [InlineData("silo", "own endpoint")]
    public async Task TokenAimedAtAForbiddenPlace_IsRefusedWithAReason(string token, string reasonWords)
    {
        await using var client = await ConsoleClient.ConnectAsync(_node.WebSocketUri(token));

        var (status, reason) = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((WebSocketCloseStatus)4403, status);
        Assert.Contains("not allowed", reason, StringComparison.Ordinal);
        Assert.Contains(reasonWords, reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoopbackDesktop_StillRelays()
    {
        await using var client = await ConsoleClient.OpenEchoingAsync(_node, "desktop");

        Assert.True(await client.EchoesAsync());
    }
}
