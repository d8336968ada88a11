using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>Kestrel's upgraded-connection cap, set low: sessions beyond it get a defined answer and the others relay on.</summary>
public sealed class ConnectionCapTests
{
    private const string Token = "cap-echo-token-0001";

    [Fact]
    public async Task SessionsBeyondTheUpgradeCap_AreRefusedWithAStatus_WhileLiveOnesRelay()
    {
        await using var echo = TcpTarget.Echo();
        var directory = Repo.TempDirectory("cap");
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (Token, $"127.0.0.1:{echo.Port}")),
            SiloName = "cap",
            Environment = { ["Kestrel__Limits__MaxConcurrentUpgradedConnections"] = "2" },
        });
        await node.Process.WaitForOutputAsync("Connection caps:", TimeSpan.FromSeconds(10));
        await using var first = await ConsoleClient.OpenEchoingAsync(node, Token);
        await using var second = await ConsoleClient.OpenEchoingAsync(node, Token);

        await using var third = await RawWebSocket.OpenAsync(node.Port, $"/websockify?token={Token}", TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 503", third.StatusLine, StringComparison.Ordinal);

        var probe = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024);
        await first.SendAsync(probe);
        Assert.Equal(probe, await first.ReadExactlyAsync(probe.Length, TimeSpan.FromSeconds(10)));
    }
}
