using System.Diagnostics;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// Redis run by Sentinel (docs/OPERATIONS.md, "Redis with Sentinel"): two nodes whose connection string names only the
/// three sentinels, tokens synced from the simulator, consoles open and new ones arriving, and then the primary is
/// killed with SIGKILL. The simulator is stopped before the kill, so no sync can put back a token the failover lost.
/// </summary>
public sealed class RedisSentinelTests(ITestOutputHelper output)
{
    private const int NodeCount = 2;
    private const int VmCount = 8;
    private const string TryAgainReason = "token store unavailable: try again shortly";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PrimaryKilled_NodesFollowTheFailover_LiveSessionsSurvive_AndNoTokenIsLost()
    {
        await using var redis = await RedisSentinelGroup.StartAsync();
        var vms = Enumerable.Range(0, VmCount).Select(_ => TcpTarget.Echo()).ToList();
        var nodes = new List<RelayNodeProcess>();
        var live = new List<(string Node, ConsoleClient Client)>();
        var simulator = await SimulatorProcess.StartAsync([.. vms.Select(vm => vm.Port)]);
        try
        {
            var tokens = vms.Select(vm => SimulatorProcess.TokenOf(vm.Port)).ToList();
            var cluster = "sentinel-" + Guid.NewGuid().ToString("N")[..8];
            var directory = Repo.TempDirectory("sentinel-tokens");

            // Each node also loads a token file of its own: after the kill each file gets a new token, and the node's
            // write of it showing up on the promoted replica is the proof that the node follows the failover.
            var files = Enumerable.Range(0, NodeCount).Select(i => Path.Combine(directory, $"node{i + 1}.cfg")).ToList();
            foreach (var file in files)
            {
                TokenFiles.Rewrite(file);
            }

            for (var i = 0; i < NodeCount; i++)
            {
                nodes.Add(await RelayNodeProcess.StartAsync(new RelayNodeSettings
                {
                    RedisConnectionString = redis.ConnectionString,
                    SiloName = $"sentinel-node{i + 1}",
                    TokenFile = files[i],
                    Environment = new(simulator.NodeEnvironment())
                    {
                        ["Orleans__ClusterId"] = cluster,
                        ["Orleans__ServiceId"] = cluster,
                        ["Tokens__FilePollInterval"] = "00:00:00.500",
                        ["Relay__DrainBudget"] = "00:00:01",
                        ["Limits__MaxSessionsPerToken"] = "200",
                    },
                }));
            }

            foreach (var node in nodes)
            {
                Assert.Contains($"Sentinel service {RedisSentinelGroup.ServiceName}", node.Process.Output, StringComparison.Ordinal);
            }

            var primary = redis.Direct(redis.Primary);
            var promoted = redis.Direct(redis.Replica);
            await Eventually.HoldsAsync(async () => (await StoredTokens.PresentAsync(primary, cluster, tokens)).Count == VmCount, Timeout,
                $"all {VmCount} tokens synced from the simulator are stored on the primary");
            await simulator.DisposeAsync();
            var before = await StoredTokens.PresentAsync(primary, cluster, tokens);

            // The nodes know only the sentinels, so whatever they keep on the primary came through Sentinel: Orleans'
            // membership table, the token grains' state and the sync grain's reminder all share that one connection.
            var families = (await StoredTokens.KeysAsync(primary, $"{cluster}/*")).Select(key => key.Split('/')[1]).Distinct().Order(StringComparer.Ordinal).ToList();
            Assert.Contains("members", families);
            Assert.Contains("state", families);
            Assert.Contains(families, family => family.Contains("reminder", StringComparison.OrdinalIgnoreCase));

            foreach (var node in nodes)
            {
                foreach (var token in tokens.Take(2))
                {
                    live.Add((node.Settings.SiloName, await ConsoleClient.OpenEchoingAsync(node, token)));
                }
            }

            var clock = Stopwatch.StartNew();
            await using var trickle = SessionTrickle.Start(clock, TimeSpan.FromMilliseconds(250), n =>
            {
                var node = nodes[n % NodeCount];
                var token = tokens[n % VmCount];
                return (node.WebSocketUri(token), node.Settings.SiloName, token);
            });

            var killedAt = clock.Elapsed;
            redis.Primary.Process.Signal("KILL");
            Assert.True(await redis.Primary.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the primary dies on SIGKILL");
            var probes = files.Select((file, i) => (File: file, Token: $"after-failover-{i + 1}-" + Guid.NewGuid().ToString("N")[..12])).ToList();
            foreach (var (file, token) in probes)
            {
                TokenFiles.Rewrite(file, (token, $"127.0.0.1:{vms[0].Port}"));
            }

            await redis.WaitForFailoverAsync(Timeout);
            var switchedAt = clock.Elapsed;
            await Eventually.HoldsAsync(async () => (await StoredTokens.PresentAsync(promoted, cluster, probes.Select(p => p.Token))).Count == NodeCount, Timeout,
                "both nodes write the token added to their file after the kill to the promoted replica");
            var followedAt = clock.Elapsed;

            // Each node opens the token the other one wrote after the failover.
            for (var i = 0; i < NodeCount; i++)
            {
                await using var crossed = await ConsoleClient.OpenEchoingAsync(nodes[i], probes[(i + 1) % NodeCount].Token);
            }

            foreach (var (node, client) in live)
            {
                Assert.True(await client.EchoesAsync(), $"a live session on {node} relays after the failover");
            }

            var attempts = await trickle.StopAsync();
            var after = await StoredTokens.PresentAsync(promoted, cluster, tokens);
            var duringFailover = attempts.Where(a => a.Started >= killedAt && a.Started <= followedAt).ToList();
            var slowest = duringFailover.Count == 0 ? TimeSpan.Zero : duringFailover.Max(a => a.Ended - a.Started);
            output.WriteLine($"Sentinel: primary killed; sentinels promoted the replica after {(switchedAt - killedAt).TotalMilliseconds:F0} ms " +
                $"(down-after {RedisSentinelGroup.DownAfter.TotalMilliseconds:F0} ms); both nodes' writes reached the new primary {(followedAt - killedAt).TotalMilliseconds:F0} ms after the kill");
            output.WriteLine($"Sentinel: {live.Count}/{live.Count} live sessions relayed after the failover; of {duringFailover.Count} new sessions started during it " +
                $"{duringFailover.Count(a => a.Opened)} opened and {duringFailover.Count(a => a.CloseCode == 1013)} got 1013; the slowest answer took {slowest.TotalMilliseconds:F0} ms");
            output.WriteLine($"Sentinel: the nodes' keys on the primary, reached through the sentinels only: {string.Join(", ", families)}");
            output.WriteLine($"Sentinel: tokens stored {before.Count} on the old primary before the kill, {after.Count} on the new primary after it (of {VmCount} synced)");

            Assert.Equal(before.Order(StringComparer.Ordinal), after.Order(StringComparer.Ordinal));
            Assert.Equal(VmCount, after.Count);
            // A token whose grain must be read from Redis may be refused while no primary answers, but readably: it
            // opens, or it gets 1013 "try again shortly"; nothing hangs or fails another way.
            var unexpected = duringFailover.Where(a => !a.Opened && !(a.CloseCode == 1013 && a.Reason == TryAgainReason)).ToList();
            Assert.True(duringFailover.Count >= 1, $"the trickle made at least 1 attempt during the failover: {duringFailover.Count}");
            Assert.True(unexpected.Count == 0, $"every new session during the failover opens or gets 1013 \"{TryAgainReason}\"; these did not:\n{string.Join("\n", unexpected)}");
        }
        finally
        {
            foreach (var (_, client) in live)
            {
                await client.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            await simulator.DisposeAsync();
            foreach (var vm in vms)
            {
                await vm.DisposeAsync();
            }
        }
    }
}
