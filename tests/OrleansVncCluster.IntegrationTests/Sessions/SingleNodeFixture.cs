using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>One embedded-mode node with a token file, an echo target, a target that closes, and a dead port.</summary>
public sealed class SingleNodeFixture : IAsyncLifetime
{
    public const string EchoToken = "echo-token-0001";
    public const string ClosingToken = "closing-token-01";
    public const string DeadToken = "dead-token-00001";

    public TcpTarget Echo { get; } = TcpTarget.Echo();
    public TcpTarget Closing { get; } = TcpTarget.SendAndClose("RFB 003.008\n"u8.ToArray());
    public string Directory { get; } = Repo.TempDirectory("node");
    public string TokenFile { get; private set; } = "";
    public RelayNodeProcess Node { get; private set; } = null!;

    /// <summary>A loopback port nobody listens on.</summary>
    public string DeadTarget { get; } = $"127.0.0.1:{Ports.Free()}";

    public async ValueTask InitializeAsync()
    {
        TokenFile = TokenFiles.Write(Directory,
            (EchoToken, $"127.0.0.1:{Echo.Port}"),
            (ClosingToken, $"127.0.0.1:{Closing.Port}"),
            (DeadToken, DeadTarget));
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFile,
            SiloName = "single",
            Environment = { ["Relay__MaxMessageBytes"] = "65536" },
        });
        await WaitForTokenAsync(EchoToken);
    }

    /// <summary>
    /// Waits until a session with <paramref name="token"/> (an echo target's) relays bytes both ways: the file was loaded.
    /// Only an echo proves it; a quiet open socket may still be waiting for the lookup.
    /// </summary>
    public async Task WaitForTokenAsync(string token)
    {
        await using var client = await ConsoleClient.OpenEchoingAsync(Node, token);
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Echo.DisposeAsync();
        await Closing.DisposeAsync();
    }
}
