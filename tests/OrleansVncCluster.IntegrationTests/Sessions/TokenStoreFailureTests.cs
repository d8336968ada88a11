using System.Diagnostics;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>
/// The README's close codes for a token that changes under a live console (4410) and for a token store that is down
/// (1013), each on one real node: the token file retargets a token, and the node's redis-server is stopped.
/// </summary>
public sealed class TokenStoreFailureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RetargetedToken_ClosesItsLiveSessionWith4410_AndTheNewAddressRelays()
    {
        await using var oldTarget = TcpTarget.Echo();
        await using var newTarget = TcpTarget.Echo();
        var token = "moved-" + Guid.NewGuid().ToString("N")[..12];
        var tokenFile = TokenFiles.Write(Repo.TempDirectory("moved"), (token, $"127.0.0.1:{oldTarget.Port}"));
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { TokenFile = tokenFile, SiloName = "retarget" });
        await using var live = await ConsoleClient.OpenEchoingAsync(node, token);

        TokenFiles.Rewrite(tokenFile, (token, $"127.0.0.1:{newTarget.Port}"));
        (WebSocketCloseStatus? Status, string? Reason) closed;
        try
        {
            closed = await live.ReadUntilCloseAsync(Timeout);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the live session was not closed within {Timeout.TotalSeconds:F0} s of its token moving to another address");
        }

        var (status, reason) = closed;

        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Equal("console revoked: the VM's console moved", reason);
        var oldConnections = oldTarget.Accepted;
        await using var reopened = await ConsoleClient.OpenEchoingAsync(node, token);
        Assert.True(newTarget.Accepted >= 1, "the reopened console did not reach the token's new address");
        Assert.Equal(oldConnections, oldTarget.Accepted);
    }

    [Fact]
    public async Task TokenStoreDown_AnUncachedTokenClosesWith1013_WhileACachedOneOpensAndLiveSessionsRelay()
    {
        var redis = await RedisServer.StartAsync();
        var redisPort = redis.Port;
        var redisDirectory = redis.Directory;
        try
        {
            await using var echo = TcpTarget.Echo();
            var cached = "cached-" + Guid.NewGuid().ToString("N")[..12];
            var uncached = "uncached-" + Guid.NewGuid().ToString("N")[..12];
            var cluster = "store-" + Guid.NewGuid().ToString("N")[..8];
            var settings = new RelayNodeSettings
            {
                RedisConnectionString = redis.ConnectionString,
                TokenFile = TokenFiles.Write(Repo.TempDirectory("store"), (cached, $"127.0.0.1:{echo.Port}"), (uncached, $"127.0.0.1:{echo.Port}")),
                SiloName = "store",
                Environment = { ["Orleans__ClusterId"] = cluster, ["Orleans__ServiceId"] = cluster },
            };

            // The first process writes both tokens to Redis, which also activates both token grains in it; a second
            // process with the same file finds its index unchanged and activates neither: only Redis knows `uncached`.
            await using (var writer = await RelayNodeProcess.StartAsync(settings))
            {
                await (await ConsoleClient.OpenEchoingAsync(writer, uncached)).DisposeAsync();
            }

            await using var node = await RelayNodeProcess.StartAsync(settings);
            await using var live = await ConsoleClient.OpenEchoingAsync(node, cached);

            await redis.DisposeAsync();
            var refusedAfter = Stopwatch.StartNew();
            var refusal = await RefusalAsync(node, uncached);
            refusedAfter.Stop();
            await using var cachedAgain = await ConsoleClient.OpenEchoingAsync(node, cached);
            var liveRelays = await live.EchoesAsync();

            Assert.Equal(((WebSocketCloseStatus)1013, "token store unavailable: try again shortly"), refusal);
            Assert.True(liveRelays, "the session opened before Redis stopped no longer relays");
            TestContext.Current.TestOutputHelper?.WriteLine($"uncached token refused with 1013 after {refusedAfter.ElapsedMilliseconds} ms with Redis down");

            redis = await RedisServer.StartAsync(redisPort, redisDirectory);
            var back = Stopwatch.StartNew();
            await using var afterRestart = await ConsoleClient.OpenEchoingAsync(
                node.WebSocketUri(uncached), $"node relays {uncached} once Redis is back (from its AOF)", timeout: TimeSpan.FromSeconds(60));
            TestContext.Current.TestOutputHelper?.WriteLine($"uncached token opened {back.ElapsedMilliseconds} ms after Redis restarted");
        }
        finally
        {
            await redis.DisposeAsync();
        }
    }

    private static async Task<(WebSocketCloseStatus? Status, string? Reason)> RefusalAsync(RelayNodeProcess node, string token)
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token));
        return await client.ReadUntilCloseAsync(Timeout);
    }
}
