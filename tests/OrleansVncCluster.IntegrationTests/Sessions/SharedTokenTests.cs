using System.Security.Cryptography;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>Two node processes on one real redis-server form one cluster and share the token grains.</summary>
public sealed class SharedTokenTests
{
    [Fact]
    public async Task TokenLoadedThroughNodeA_IsUsableThroughNodeB()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var echo = TcpTarget.Echo();
        var token = "shared-" + Guid.NewGuid().ToString("N")[..12];
        var cluster = "test-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?> { ["Orleans__ClusterId"] = cluster, ["Orleans__ServiceId"] = cluster };
        await using var nodeA = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString,
            TokenFile = TokenFiles.Write(Repo.TempDirectory("a"), (token, $"127.0.0.1:{echo.Port}")),
            SiloName = "node-a",
            Environment = new(environment),
        });
        await using var nodeB = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString,
            SiloName = "node-b",
            Environment = new(environment),
        });

        await Eventually.HoldsAsync(async () =>
        {
            await using var client = await ConsoleClient.ConnectAsync(nodeB.WebSocketUri(token));
            var probe = RandomNumberGenerator.GetBytes(512);
            await client.SendAsync(probe);
            try
            {
                var echoed = await client.ReadExactlyAsync(probe.Length, TimeSpan.FromSeconds(5));
                return probe.SequenceEqual(echoed);
            }
            catch (InvalidOperationException)
            {
                return false; // closed as unknown: node A has not written it yet
            }
        }, TimeSpan.FromSeconds(30), "node B relays a session for the token loaded by node A");

        Assert.Equal(1, echo.Accepted);
        Assert.DoesNotContain("Exception", nodeB.Process.Output, StringComparison.Ordinal);
    }
}
