using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sync;

/// <summary>Two node processes on one redis-server sync their tokens from the Abiquo simulator process.</summary>
public sealed class AbiquoRevocationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task VmRemovedFromAbiquo_ClosesItsLiveSessionWithTheRevocationReason_WhileAnotherVmsSessionGoesOn()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var removedVm = TcpTarget.Echo();
        await using var keptVm = TcpTarget.Echo();
        await using var simulator = await SimulatorProcess.StartAsync(removedVm.Port, keptVm.Port);
        var cluster = "sync-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>
        {
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Abiquo__ApiUrl"] = simulator.ApiUrl,
            ["Abiquo__User"] = SimulatorProcess.User,
            ["Abiquo__PasswordFile"] = simulator.PasswordFile,
            ["Sync__Interval"] = "00:00:01",
            ["Sync__KeeperInterval"] = "00:00:01",
        };
        await using var nodeA = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString, SiloName = "sync-a", Environment = new(environment),
        });
        await using var nodeB = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = redis.ConnectionString, SiloName = "sync-b", Environment = new(environment),
        });

        await using var revoked = await ConsoleClient.OpenEchoingAsync(nodeA, SimulatorProcess.TokenOf(removedVm.Port));
        await using var untouched = await ConsoleClient.OpenEchoingAsync(nodeA, SimulatorProcess.TokenOf(keptVm.Port));

        await simulator.RemoveVmAtAsync(removedVm.Port);
        var (status, reason) = await revoked.ReadUntilCloseAsync(Timeout);

        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Equal("console revoked", reason);
        var probe = RandomNumberGenerator.GetBytes(256);
        await untouched.SendAsync(probe);
        Assert.Equal(probe, await untouched.ReadExactlyAsync(probe.Length, Timeout));
    }

    [Fact]
    public async Task SyncStatus_IsOnTheAdminApi_WithoutThePassword()
    {
        await using var target = TcpTarget.Echo();
        await using var simulator = await SimulatorProcess.StartAsync(target.Port);
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "sync-status",
            Environment = new()
            {
                ["Abiquo__ApiUrl"] = simulator.ApiUrl,
                ["Abiquo__User"] = SimulatorProcess.User,
                ["Abiquo__PasswordFile"] = simulator.PasswordFile,
            },
        });
        using var admin = node.AdminClient();

        using var synced = await admin.PostAsync("/api/sync", null);
        var body = await synced.Content.ReadAsStringAsync();
        using var anonymous = new HttpClient();
        using var refused = await anonymous.GetAsync(node.AdminUri("/api/sync"));

        Assert.True(synced.IsSuccessStatusCode, body);
        Assert.Contains("\"tokens\":1", body, StringComparison.Ordinal);
        Assert.DoesNotContain(await File.ReadAllTextAsync(simulator.PasswordFile), body, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
