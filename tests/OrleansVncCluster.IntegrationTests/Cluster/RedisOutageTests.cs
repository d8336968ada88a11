using System.Diagnostics;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// Redis down for 30 s while consoles are open and users keep opening new ones. Its own cluster, not
/// <see cref="FailureClusterFixture"/>'s: that one keeps syncing from the simulator, and a sync (or a node's cache, or a
/// token grain still active in memory) would bring back or answer for a token the AOF lost. Here the simulator is stopped
/// once the tokens are in Redis, and every node is restarted both before the outage (so no grain is active and no cache
/// holds the tokens nobody has opened since) and after it (so the last word is what redis-server read from its AOF).
/// </summary>
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    private const int NodeCount = 2;
    private const int VmCount = 12;
    private const string TryAgainReason = "token store unavailable: try again shortly";

    /// <summary>What is being tested: the one fixed wait of this test.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RedisDown30s_UnderLoad_LiveSessionsSurvive_CachedTokensOpen_OthersGet1013_AndEveryTokenComesBackFromTheAof()
    {
        await using var cluster = new OutageCluster();
        await cluster.StartAsync();
        var tokens = cluster.Tokens;
        var warm = tokens.Take(VmCount / 2).ToList();
        var cold = tokens.Skip(VmCount / 2).ToList();

        // Every token reached Redis by the simulator's sync; then the sync stops for good and the nodes restart.
        await Eventually.HoldsAsync(async () => (await cluster.StoredAsync()).Count == VmCount, Timeout,
            $"all {VmCount} tokens synced from the simulator are stored in Redis");
        await cluster.StopSyncAsync();
        await cluster.RestartNodesAsync();
        var storedBefore = await cluster.StoredAsync();

        // The load: one console per warm token on every node (the nodes look them up, so those tokens are cached and
        // their grains active) and a trickle of new sessions alternating warm and cold tokens over the nodes.
        var live = new List<(string Node, ConsoleClient Client)>();
        try
        {
            foreach (var node in cluster.Nodes)
            {
                foreach (var token in warm)
                {
                    live.Add((node.Settings.SiloName, await ConsoleClient.OpenEchoingAsync(node, token)));
                }
            }

            var clock = Stopwatch.StartNew();
            await using var trickle = SessionTrickle.Start(clock, TimeSpan.FromMilliseconds(250), n =>
            {
                var node = cluster.Nodes[n % NodeCount];
                var token = (n / NodeCount) % 2 == 0 ? warm[n % warm.Count] : cold[n % cold.Count];
                return (node.WebSocketUri(token), node.Settings.SiloName, token);
            });

            var downAt = clock.Elapsed;
            cluster.Redis.Process.Signal("KILL");
            Assert.True(await cluster.Redis.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "redis-server dies on SIGKILL");
            var killedAt = clock.Elapsed;
            var checks = 0;
            while (clock.Elapsed - downAt < Outage)
            {
                foreach (var (node, client) in live)
                {
                    Assert.True(await client.EchoesAsync(), $"a live session on {node} relays {(clock.Elapsed - downAt).TotalSeconds:F0} s into the Redis outage");
                }

                checks++;
                var remaining = Outage - (clock.Elapsed - downAt);
                if (remaining > TimeSpan.Zero)
                {
                    await Task.Delay(remaining < CheckEvery ? remaining : CheckEvery);
                }
            }

            var restartAt = clock.Elapsed;
            await cluster.StartRedisAgainAsync();
            var backAt = clock.Elapsed;

            // Recovery: a token no node has looked up since its restart opens again on every node (read from Redis).
            foreach (var node in cluster.Nodes)
            {
                await using var recovered = await ConsoleClient.OpenEchoingAsync(node.WebSocketUri(cold[0]),
                    $"a cold token opens on {node.Settings.SiloName} after Redis is back", timeout: Timeout);
            }

            var recoveredAt = clock.Elapsed;
            var attempts = await trickle.StopAsync();

            foreach (var (node, client) in live)
            {
                Assert.True(await client.EchoesAsync(), $"a live session on {node} relays after Redis is back");
            }

            var during = attempts.Where(a => a.Within(killedAt, restartAt)).ToList();
            var warmDuring = during.Where(a => warm.Contains(a.Token)).ToList();
            var coldDuring = during.Where(a => cold.Contains(a.Token)).ToList();
            output.WriteLine($"Redis outage: down {(backAt - downAt).TotalSeconds:F1} s (SIGKILL to ready again); {live.Count} live sessions echoed through all {checks} checks during it and after");
            output.WriteLine($"Redis outage: during it {warmDuring.Count(a => a.Opened)}/{warmDuring.Count} new sessions for cached tokens opened; " +
                $"{coldDuring.Count(a => a.CloseCode == 1013 && a.Reason == TryAgainReason)}/{coldDuring.Count} for uncached tokens closed with 1013 \"{TryAgainReason}\"");
            output.WriteLine($"Redis outage: uncached tokens opened on every node {(recoveredAt - backAt).TotalMilliseconds:F0} ms after redis-server was ready again");

            var unexpected = warmDuring.Where(a => !a.Opened).Concat(coldDuring.Where(a => a.Opened || a.CloseCode != 1013 || a.Reason != TryAgainReason)).ToList();
            Assert.True(warmDuring.Count >= 5 && coldDuring.Count >= 5,
                $"the trickle made at least 5 attempts of each kind during the outage (an uncached one waits out the 2 s lookup deadline): {warmDuring.Count} cached, {coldDuring.Count} uncached");
            Assert.True(unexpected.Count == 0,
                $"during the outage every cached token opens and every uncached one gets 1013 \"{TryAgainReason}\"; these did not:\n{string.Join("\n", unexpected)}");
        }
        finally
        {
            foreach (var (_, client) in live)
            {
                await client.DisposeAsync();
            }
        }

        // The proof that nothing was lost: what redis-server reloaded from its AOF, then nodes with no cache and no
        // active grain (all restarted, the sync still stopped) open every token.
        var storedAfter = await cluster.StoredAsync();
        Assert.Equal(storedBefore.Order(StringComparer.Ordinal), storedAfter.Order(StringComparer.Ordinal));
        await cluster.RestartNodesAsync();
        foreach (var node in cluster.Nodes)
        {
            foreach (var token in tokens)
            {
                await using var opened = await ConsoleClient.OpenEchoingAsync(node, token);
            }
        }

        output.WriteLine($"Redis outage: tokens in Redis {storedBefore.Count} before, {storedAfter.Count} after (of {VmCount} synced); " +
            $"all {VmCount} open on each of {NodeCount} freshly restarted nodes with the sync stopped");
    }

    /// <summary>Redis with AOF, the simulator with one echo server per VM, and <see cref="NodeCount"/> nodes syncing from it.</summary>
    private sealed class OutageCluster : IAsyncDisposable
    {
        private readonly List<TcpTarget> _vms = [];
        private readonly RelayNodeProcess?[] _nodes = new RelayNodeProcess?[NodeCount];
        private readonly string _cluster = "outage-" + Guid.NewGuid().ToString("N")[..8];
        private SimulatorProcess? _simulator;

        public RedisServer Redis { get; private set; } = null!;

        public IReadOnlyList<string> Tokens { get; private set; } = [];

        public IReadOnlyList<RelayNodeProcess> Nodes => [.. _nodes.Select(n => n!)];

        public async Task StartAsync()
        {
            Redis = await RedisServer.StartAsync();
            _vms.AddRange(Enumerable.Range(0, VmCount).Select(_ => TcpTarget.Echo()));
            _simulator = await SimulatorProcess.StartAsync([.. _vms.Select(vm => vm.Port)]);
            Tokens = [.. _vms.Select(vm => SimulatorProcess.TokenOf(vm.Port))];
            await StartNodesAsync();
        }

        public Task<IReadOnlyList<string>> StoredAsync() => StoredTokens.PresentAsync($"127.0.0.1:{Redis.Port}", _cluster, Tokens);

        /// <summary>The simulator goes away: from now on every sync fails and changes nothing.</summary>
        public async Task StopSyncAsync()
        {
            await _simulator!.DisposeAsync();
        }

        /// <summary>Stops every node and starts them again on the same ports: no cache, no active grain.</summary>
        public async Task RestartNodesAsync()
        {
            await Task.WhenAll(_nodes.Select(async node => await node!.DisposeAsync()));
            await StartNodesAsync();
        }

        /// <summary>A new redis-server on the killed one's port and data directory: it loads the AOF.</summary>
        public async Task StartRedisAgainAsync()
        {
            var killed = Redis;
            await killed.DisposeAsync();
            Redis = await RedisServer.StartAsync(killed.Port, killed.Directory);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in _nodes.OfType<RelayNodeProcess>())
            {
                await node.DisposeAsync();
            }

            if (_simulator is not null)
            {
                await _simulator.DisposeAsync();
            }

            foreach (var vm in _vms)
            {
                await vm.DisposeAsync();
            }

            if (Redis is not null)
            {
                await Redis.DisposeAsync();
            }
        }

        private async Task StartNodesAsync()
        {
            // The first node founds the cluster alone; the other joins it.
            for (var i = 0; i < NodeCount; i++)
            {
                var previous = _nodes[i];
                _nodes[i] = previous is null ? await RelayNodeProcess.StartAsync(Settings(i)) : await previous.RestartAsync();
            }
        }

        private RelayNodeSettings Settings(int index) => new()
        {
            RedisConnectionString = Redis.ConnectionString,
            SiloName = $"outage-node{index + 1}",
            Environment = new(_simulator!.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = _cluster,
                ["Orleans__ServiceId"] = _cluster,
                ["Relay__DrainBudget"] = "00:00:01",
                ["Limits__MaxSessionsPerToken"] = "200",
            },
        };
    }
}
