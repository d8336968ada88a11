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

    /// <summary>Waits until a session with <paramref name="token"/> is accepted (the file was loaded).</summary>
    public Task WaitForTokenAsync(string token) => Eventually.HoldsAsync(async () =>
    {
        await using var client = await ConsoleClient.ConnectAsync(Node.WebSocketUri(token));
        var receive = client.Socket.ReceiveAsync(new byte[16], new CancellationTokenSource(TimeSpan.FromMilliseconds(300)).Token);
        try
        {
            var result = await receive;
            return result.MessageType != System.Net.WebSockets.WebSocketMessageType.Close || client.Socket.CloseStatus != (System.Net.WebSockets.WebSocketCloseStatus)4404;
        }
        catch (OperationCanceledException)
        {
            return true; // open and quiet: the token resolved
        }
    }, TimeSpan.FromSeconds(20), $"token {token} is known to the node");

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Echo.DisposeAsync();
        await Closing.DisposeAsync();
    }
}
