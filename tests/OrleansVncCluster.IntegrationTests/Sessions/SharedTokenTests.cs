using System.Net.WebSockets;
using System.Security.Cryptography;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>Two node processes on one real redis-server form one cluster and share the token grains.</summary>
public sealed class SharedTokenTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokenLoadedThroughNodeA_IsUsableThroughNodeB_AndItsRemovalRevokesTheLiveSessionOnNodeB()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var echo = TcpTarget.Echo();
        var token = "shared-" + Guid.NewGuid().ToString("N")[..12];
        var keep = "kept-" + Guid.NewGuid().ToString("N")[..12];
        var cluster = "test-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?> { ["Orleans__ClusterId"] = cluster, ["Orleans__ServiceId"] = cluster };
        var tokenFile = TokenFiles.Write(Repo.TempDirectory("a"), (token, $"127.0.0.1:{echo.Port}"), (keep, $"127.0.0.1:{echo.Port}"));
        await using var nodeA = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString,
            TokenFile = tokenFile,
            SiloName = "node-a",
            Environment = new(environment),
        });
        await using var nodeB = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString,
            SiloName = "node-b",
            Environment = new(environment),
        });

        await using var revoked = await ConsoleClient.OpenEchoingAsync(nodeB, token);
        await using var untouched = await ConsoleClient.OpenEchoingAsync(nodeB, keep);

        TokenFiles.Rewrite(tokenFile, (keep, $"127.0.0.1:{echo.Port}"));
        var (status, reason) = await revoked.ReadUntilCloseAsync(Timeout);

        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Equal("console revoked", reason);
        var probe = RandomNumberGenerator.GetBytes(256);
        await untouched.SendAsync(probe);
        Assert.Equal(probe, await untouched.ReadExactlyAsync(probe.Length, Timeout));
    }

}
