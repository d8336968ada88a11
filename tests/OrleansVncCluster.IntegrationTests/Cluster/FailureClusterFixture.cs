using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// The production shape on loopback, shared by the failure tests: redis-server with AOF, three nodes on Redis clustering
/// that sync their tokens from the Abiquo simulator, echo servers as the VMs' consoles, and the shipped haproxy.cfg in
/// front in master-worker mode. Tests break one part and repair it through <see cref="EnsureHealthyAsync"/>.
/// </summary>
public sealed class FailureClusterFixture : IAsyncLifetime
{
    public const int NodeCount = 3;

    /// <summary>The node SIGTERM tests use: a short drain budget, so it exits quickly.</summary>
    public const int ShortBudgetNode = 2;

    public static readonly TimeSpan ShortDrainBudget = TimeSpan.FromSeconds(3);

    /// <summary>The other nodes' budget: long enough for HAProxy's agent check (every 5 s) to see a drain first.</summary>
    public static readonly TimeSpan LongDrainBudget = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly RelayNodeProcess[] _nodes = new RelayNodeProcess[NodeCount];
    private readonly List<TcpTarget> _vms = [];
    private int _nextSource = 1;

    public RedisServer Redis { get; private set; } = null!;

    public SimulatorProcess Simulator { get; private set; } = null!;

    public HaproxyServer Haproxy { get; private set; } = null!;

    /// <summary>The nodes' Orleans cluster and service id: the prefix of their keys in Redis.</summary>
    public string ClusterId { get; } = "failure-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The console tokens of the VMs the simulator started with.</summary>
    public IReadOnlyList<string> Tokens { get; private set; } = [];

    public IReadOnlyList<RelayNodeProcess> Nodes => _nodes;

    /// <summary>The HAProxy server name of node <paramref name="index"/> (relay1..relay3 in haproxy.cfg).</summary>
    public static string ServerName(int index) => $"relay{index + 1}";

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        _vms.AddRange([TcpTarget.Echo(), TcpTarget.Echo()]);
        Simulator = await SimulatorProcess.StartAsync([.. _vms.Select(vm => vm.Port)]);
        Tokens = [.. _vms.Select(vm => SimulatorProcess.TokenOf(vm.Port))];

        var cluster = ClusterId;
        RelayNodeSettings Settings(int index) => new()
        {
            RedisConnectionString = Redis.ConnectionString,
            SiloName = $"failure-node{index + 1}",
            Environment = new(Simulator.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = cluster,
                ["Orleans__ServiceId"] = cluster,
                ["Relay__DrainBudget"] = (index == ShortBudgetNode ? ShortDrainBudget : LongDrainBudget).ToString("c", CultureInfo.InvariantCulture),
                // SpreadAsync holds sessions open until every node carries one, and a restarted node in HAProxy's
                // 60 s slowstart gets few new clients: with two VMs that can pass the default 10 sessions per VM.
                // The limits have their own tests (Limits/); here they must not be what a failure test measures.
                ["Limits__MaxSessionsPerToken"] = "200",
            },
        };

        // The first node founds the cluster alone; the others join it together.
        _nodes[0] = await RelayNodeProcess.StartAsync(Settings(0));
        var joining = await Task.WhenAll(Enumerable.Range(1, NodeCount - 1).Select(i => RelayNodeProcess.StartAsync(Settings(i))));
        joining.CopyTo(_nodes, 1);
        Haproxy = await HaproxyServer.StartAsync(_nodes, masterWorker: true);
        await EnsureHealthyAsync();
    }

    /// <summary>A loopback client address no earlier session of this fixture used (127.0.0.2, .3, ...).</summary>
    public IPAddress NextSource()
    {
        lock (_nodes)
        {
            var n = _nextSource++;
            return IPAddress.Parse($"127.0.{n / 250}.{(n % 250) + 2}");
        }
    }

    /// <summary>
    /// Every node runs, takes sessions (ready, not draining) and HAProxy sees it UP: restarts on the same ports any node a
    /// test killed, stopped or drained, so each test starts from a whole cluster.
    /// </summary>
    public async Task EnsureHealthyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < NodeCount; i++)
        {
            var node = _nodes[i];
            if (!node.Process.HasExited && await IsReadyAsync(http, node))
            {
                continue;
            }

            // Draining (only a restart undoes that) or gone: stop what is left of it and start it again.
            await node.DisposeAsync();
            _nodes[i] = await node.RestartAsync();
        }

        for (var i = 0; i < NodeCount; i++)
        {
            await WaitForServerStatusAsync(i, "UP");
        }
    }

    public Task WaitForServerStatusAsync(int index, string status) =>
        Eventually.HoldsAsync(async () => (await Haproxy.ServerStatusAsync(ServerName(index))).StartsWith(status, StringComparison.Ordinal),
            Timeout, $"HAProxy shows {ServerName(index)} ({_nodes[index].Settings.SiloName}) as {status}");

    /// <summary>Replaces the dead or stopped node <paramref name="index"/> with a new process on the same ports.</summary>
    public async Task<RelayNodeProcess> RestartAsync(int index)
    {
        await _nodes[index].DisposeAsync();
        _nodes[index] = await _nodes[index].RestartAsync();
        return _nodes[index];
    }

    /// <summary>Stops redis-server (it writes its AOF) and starts a new one on the same port and data directory.</summary>
    public async Task RestartRedisAsync(Func<Task> whileDown)
    {
        var (port, directory) = (Redis.Port, Redis.Directory);
        await Redis.DisposeAsync();
        await whileDown();
        Redis = await RedisServer.StartAsync(port, directory);
    }

    /// <summary>
    /// Opens one echoing session through HAProxy onto each node of <paramref name="nodeIndexes"/>, from a fresh loopback
    /// client address that HAProxy's source hash sends to that node (<see cref="HaproxySourceHash"/>), and checks in the
    /// cluster-wide session list that it landed there. Placement is deterministic: no retries until sessions happen to
    /// spread. Pass each node at most once: a node that already carries a session may be skipped by hash-balance-factor.
    /// </summary>
    public async Task<Sessions> PlaceAsync(params int[] nodeIndexes)
    {
        Assert.Equal(nodeIndexes.Length, nodeIndexes.Distinct().Count());
        var sessions = new Sessions();
        try
        {
            foreach (var index in nodeIndexes)
            {
                var source = SourceOnNode(index);
                var token = Tokens[sessions.Count % Tokens.Count];
                var client = await ConsoleClient.OpenEchoingAsync(Haproxy.WebSocketUri(token), $"a session from {source} through HAProxy echoes", source);
                var carrier = await NodeCarryingAsync(source);
                sessions.Add(new PlacedSession(client, source, token, carrier));
                Assert.True(carrier == _nodes[index].Settings.SiloName,
                    $"HAProxy's source hash sends {source} to {ServerName(index)} ({_nodes[index].Settings.SiloName}), but {carrier} carries its session: has haproxy.cfg's balance or hash-type changed?");
            }

            return sessions;
        }
        catch
        {
            await sessions.DisposeAsync();
            throw;
        }
    }

    /// <summary>A loopback client address no earlier session of this fixture used, which HAProxy hashes to node <paramref name="index"/>.</summary>
    public IPAddress SourceOnNode(int index)
    {
        lock (_nodes)
        {
            return HaproxySourceHash.SourceFor(index + 1, NodeCount, ref _nextSource);
        }
    }

    /// <summary>The index of the node whose silo name is <paramref name="siloName"/>.</summary>
    public int IndexOf(string siloName) =>
        Enumerable.Range(0, NodeCount).Single(i => _nodes[i].Settings.SiloName == siloName);

    /// <summary>Sessions held open through HAProxy by loopback clients from <see cref="SpreadAsync"/>.</summary>
    public sealed class Sessions : List<PlacedSession>, IAsyncDisposable
    {
        public IReadOnlyCollection<string> Carriers => [.. this.Select(s => s.Node).Distinct()];

        public IEnumerable<PlacedSession> On(string node) => this.Where(s => s.Node == node);

        public IEnumerable<PlacedSession> NotOn(string node) => this.Where(s => s.Node != node);

        public override string ToString() => string.Join(", ", this.GroupBy(s => s.Node).Select(g => $"{g.Key}: {g.Count()}"));

        public async ValueTask DisposeAsync()
        {
            foreach (var session in this)
            {
                await session.Client.DisposeAsync();
            }
        }
    }

    /// <summary>The node that carries the live session of client <paramref name="source"/>, from the cluster-wide admin list.</summary>
    public async Task<string> NodeCarryingAsync(IPAddress source)
    {
        string? carrier = null;
        await Eventually.HoldsAsync(async () =>
        {
            carrier = (await LiveSessionsAsync()).LastOrDefault(s => s.Client == source.ToString()).Node;
            return carrier is not null;
        }, Timeout, $"the admin API lists the session of client {source}");
        return carrier!;
    }

    /// <summary>Every live session of the cluster (node, client), asked of the first node that answers.</summary>
    public async Task<IReadOnlyList<(string Node, string Client)>> LiveSessionsAsync()
    {
        foreach (var node in _nodes.Where(n => !n.Process.HasExited))
        {
            try
            {
                using var admin = node.AdminClient();
                admin.Timeout = TimeSpan.FromSeconds(10);
                var list = await admin.GetFromJsonAsync<JsonElement>("/api/sessions");
                return [.. list.GetProperty("sessions").EnumerateArray()
                    .Select(s => (s.GetProperty("node").GetString()!, s.GetProperty("client").GetString()!))];
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // That node is going away: ask the next one.
            }
        }

        throw new InvalidOperationException("no node answers the admin API");
    }

    /// <summary>A new VM in the simulator whose console is a new echo server; returns its token.</summary>
    public async Task<string> AddVmAsync()
    {
        var vm = TcpTarget.Echo();
        _vms.Add(vm);
        await Simulator.AddVmAtAsync(vm.Port);
        return SimulatorProcess.TokenOf(vm.Port);
    }

    /// <summary>
    /// Moves the VM of <paramref name="token"/> in the simulator to a new console address (a new echo server), as a live
    /// migration does in Abiquo; returns the new echo server and the token of the new address (md5 of "vdrpIP:vdrpPort").
    /// </summary>
    public async Task<(TcpTarget Vm, string Token)> MoveVmAsync(string token)
    {
        var from = _vms.Single(vm => SimulatorProcess.TokenOf(vm.Port) == token);
        var to = TcpTarget.Echo();
        _vms.Add(to);
        await Simulator.MoveVmAsync(from.Port, "127.0.0.1", to.Port);
        return (to, SimulatorProcess.TokenOf(to.Port));
    }

    public async ValueTask DisposeAsync()
    {
        if (Haproxy is not null)
        {
            await Haproxy.DisposeAsync();
        }

        foreach (var node in _nodes.Where(n => n is not null))
        {
            await node.DisposeAsync();
        }

        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
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

    private static async Task<bool> IsReadyAsync(HttpClient http, RelayNodeProcess node)
    {
        try
        {
            using var response = await http.GetAsync(node.AdminUri("/readyz"));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}

/// <summary>A session through HAProxy: its client, the loopback address it came from and the node HAProxy sent it to.</summary>
public sealed record PlacedSession(ConsoleClient Client, IPAddress Source, string Token, string Node);
