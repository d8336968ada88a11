using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.IntegrationTests.Audit;

/// <summary>
/// Three nodes on one redis-server, syncing two VMs from the Abiquo simulator (so records carry a VM id, name and
/// enterprise), each VM's console an echo server. Checkpoints every second, so a session's bytes reach the history
/// before its node is killed. Clients connect to the nodes directly, each from its own loopback address, which is
/// how the tests find their records.
/// </summary>
public sealed class AuditClusterFixture : IAsyncLifetime
{
    public const int NodeCount = 3;
    private readonly RelayNodeProcess[] _nodes = new RelayNodeProcess[NodeCount];
    private readonly List<TcpTarget> _vms = [];
    private int _nextSource;

    public RedisServer Redis { get; private set; } = null!;

    public SimulatorProcess Simulator { get; private set; } = null!;

    /// <summary>The console tokens of the two VMs (demo-desktop-1 and demo-desktop-2 in the simulator).</summary>
    public IReadOnlyList<string> Tokens { get; private set; } = [];

    public IReadOnlyList<RelayNodeProcess> Nodes => _nodes;

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        _vms.AddRange([TcpTarget.Echo(), TcpTarget.Echo()]);
        Simulator = await SimulatorProcess.StartAsync([.. _vms.Select(vm => vm.Port)]);
        Tokens = [.. _vms.Select(vm => SimulatorProcess.TokenOf(vm.Port))];
        var cluster = "audit-" + Guid.NewGuid().ToString("N")[..8];
        RelayNodeSettings Settings(int index) => new()
        {
            RedisConnectionString = Redis.ConnectionString,
            SiloName = $"audit-node{index + 1}",
            Environment = new(Simulator.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = cluster,
                ["Orleans__ServiceId"] = cluster,
                ["Audit__CheckpointInterval"] = "00:00:01",
                ["Relay__DrainBudget"] = "00:00:01",
            },
        };

        // The first node founds the cluster alone; the others join it together.
        _nodes[0] = await RelayNodeProcess.StartAsync(Settings(0));
        var joining = await Task.WhenAll(Enumerable.Range(1, NodeCount - 1).Select(i => RelayNodeProcess.StartAsync(Settings(i))));
        joining.CopyTo(_nodes, 1);
    }

    /// <summary>A loopback client address no earlier session of this fixture used.</summary>
    public IPAddress NextSource()
    {
        var n = Interlocked.Increment(ref _nextSource);
        return IPAddress.Parse($"127.0.{60 + (n / 250)}.{(n % 250) + 2}");
    }

    /// <summary>Restarts, on the same ports, every node that is not running.</summary>
    public async Task EnsureRunningAsync()
    {
        for (var i = 0; i < NodeCount; i++)
        {
            if (_nodes[i].Process.HasExited)
            {
                await RestartAsync(i);
            }
        }
    }

    /// <summary>Stops node <paramref name="index"/> (SIGTERM, or nothing if it is dead) and starts it again on the same ports.</summary>
    public async Task<RelayNodeProcess> RestartAsync(int index)
    {
        await _nodes[index].DisposeAsync();
        _nodes[index] = await _nodes[index].RestartAsync();
        return _nodes[index];
    }

    /// <summary>Stops every node at once, then starts them again on the same ports: the first alone, the others together.</summary>
    public async Task RestartAllAsync()
    {
        await Task.WhenAll(_nodes.Select(node => node.DisposeAsync().AsTask()));
        _nodes[0] = await _nodes[0].RestartAsync();
        var rejoined = await Task.WhenAll(_nodes.Skip(1).Select(node => node.RestartAsync()));
        rejoined.CopyTo(_nodes, 1);
    }

    /// <summary>GET /api/history on <paramref name="node"/> with the admin token.</summary>
    public static async Task<List<AuditRecord>> HistoryAsync(RelayNodeProcess node, string query = "")
    {
        using var admin = node.AdminClient();
        using var response = await admin.GetAsync(new Uri("/api/history" + query, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /api/history{query} on {node.Settings.SiloName}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<List<AuditRecord>>(body)!;
    }

    /// <summary>The history record of the one session from <paramref name="client"/>, or null.</summary>
    public static async Task<AuditRecord?> RecordOfAsync(RelayNodeProcess node, IPAddress client) =>
        (await HistoryAsync(node, $"?client={client}")).SingleOrDefault();

    /// <summary>The id of the live session from <paramref name="client"/>, from the cluster-wide session list.</summary>
    public static async Task<string> LiveSessionIdAsync(RelayNodeProcess node, IPAddress client)
    {
        string? id = null;
        await Eventually.HoldsAsync(async () =>
        {
            using var admin = node.AdminClient();
            var list = await admin.GetFromJsonAsync<JsonElement>("/api/sessions");
            id = list.GetProperty("sessions").EnumerateArray().Where(s => s.GetProperty("client").GetString() == client.ToString())
                .Select(s => s.GetProperty("id").GetString()).SingleOrDefault();
            return id is not null;
        }, TimeSpan.FromSeconds(20), $"the admin API lists the session of {client}");
        return id!;
    }

    public async ValueTask DisposeAsync()
    {
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
}
