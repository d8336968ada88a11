using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Testing;
using OrleansVncCluster.IntegrationTests.Sync;
using StackExchange.Redis;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// Three simulated hosts (network namespaces "a", "b", "c" on one bridge), one relay node on each at its own address,
/// all on the same ports as real hosts would be. Redis, HAProxy (the shipped config), a VNC server, the Abiquo simulator
/// and its VMs' consoles (echo servers) stand in the root namespace on the bridge address, where every host reaches them.
/// Only host "a" has a token file; every node syncs from the simulator (the singleton sync grain runs on one of them).
/// </summary>
public sealed class SeparateHostsFixture : IAsyncLifetime
{
    /// <summary>Every node uses the same ports: only their addresses tell them apart, as on real hosts.</summary>
    public const int RelayPort = 6080;
    public const int SiloPort = 11111;

    public static readonly byte[] RfbBanner = "RFB 003.008\n"u8.ToArray();

    private readonly string _directory = Repo.TempDirectory("hosts");
    private readonly HashSet<int> _cut = [];
    private readonly List<RelayNodeProcess> _nodes = [];
    private readonly List<TcpTarget> _vms = [];

    public string ClusterId { get; } = "hosts-" + Guid.NewGuid().ToString("N")[..8];
    public string Token { get; } = "hosts-" + Guid.NewGuid().ToString("N")[..16];
    public NetworkNamespaces Network { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public TcpTarget Vnc { get; private set; } = null!;
    public HaproxyServer Haproxy { get; private set; } = null!;
    public SimulatorProcess Simulator { get; private set; } = null!;
    public IReadOnlyList<RelayNodeProcess> Nodes => _nodes;

    /// <summary>The tokens of the VMs the simulator started with, whose consoles echo.</summary>
    public IReadOnlyList<string> VmTokens { get; private set; } = [];

    /// <summary>Host "a"'s token file.</summary>
    public string TokenFile { get; private set; } = "";

    /// <summary>The VNC server as the nodes dial it.</summary>
    public string VncTarget => $"{Network.BridgeAddress}:{Vnc.Port}";

    public Uri ThroughHaproxy(string token) => new($"ws://127.0.0.1:{Haproxy.Port}/websockify?token={Uri.EscapeDataString(token)}");

    /// <summary>xunit disposes the fixture when this throws, so whatever was started by then is stopped.</summary>
    public async ValueTask InitializeAsync() => await StartAsync();

    /// <summary>Pulls host <paramref name="index"/>'s cable.</summary>
    public Task CutAsync(int index)
    {
        _cut.Add(index);
        return NetworkNamespaces.CutAsync(Network.Hosts[index]);
    }

    private async Task StartAsync()
    {
        Network = await NetworkNamespaces.CreateAsync("a", "b", "c");
        var bridge = Network.BridgeAddress.ToString();
        Redis = await RedisServer.StartAsync(address: bridge, password: "hosts-" + Guid.NewGuid().ToString("N"));

        // Just enough of a VNC server: the RFB banner, then every byte echoed back.
        Vnc = TcpTarget.Custom(async (stream, ct) =>
        {
            await stream.WriteAsync(RfbBanner, ct);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }, Network.BridgeAddress);
        TokenFile = TokenFiles.Write(_directory, (Token, VncTarget));
        _vms.AddRange([TcpTarget.Echo(Network.BridgeAddress), TcpTarget.Echo(Network.BridgeAddress), TcpTarget.Echo(Network.BridgeAddress)]);
        Simulator = await SimulatorProcess.StartOnAsync(bridge, bridge, [.. _vms.Select(vm => vm.Port)]);
        VmTokens = [.. _vms.Select(vm => SimulatorProcess.TokenOf(bridge, vm.Port))];

        var starting = Network.Hosts.Select((host, i) => RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            Host = host,
            SiloName = "host-" + host.Name,
            RedisConnectionString = Redis.ConnectionString,
            TokenFile = i == 0 ? TokenFile : null,
            Environment = new(Simulator.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = ClusterId,
                ["Orleans__ServiceId"] = ClusterId,
                // HAProxy reaches the hosts from the bridge address: only its X-Forwarded-For is believed.
                ["Relay__TrustedProxies__0"] = $"{bridge}/32",
                ["Relay__DrainBudget"] = "00:00:01",
                ["Limits__MaxSessionsPerToken"] = "200",
            },
        }, RelayPort, SiloPort)).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        finally
        {
            _nodes.AddRange(starting.Where(start => start.IsCompletedSuccessfully).Select(start => start.Result));
        }

        Haproxy = await HaproxyServer.StartAsync(_nodes);
        await Eventually.HoldsAsync(async () =>
        {
            var statuses = await Task.WhenAll(_nodes.Select((_, i) => Haproxy.ServerStatusAsync($"relay{i + 1}")));
            return statuses.All(status => status.StartsWith("UP", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), "HAProxy reports all three hosts UP");
    }

    /// <summary>A new VM in the simulator whose console is a new echo server on the bridge; returns its token.</summary>
    public async Task<string> AddVmAsync()
    {
        var vm = TcpTarget.Echo(Network.BridgeAddress);
        _vms.Add(vm);
        await Simulator.AddVmAtAsync(vm.Port, Network.BridgeAddress.ToString());
        return SimulatorProcess.TokenOf(Network.BridgeAddress.ToString(), vm.Port);
    }

    public async ValueTask DisposeAsync()
    {
        var failures = new ConcurrentQueue<Exception>();
        async Task StopAsync(IAsyncDisposable? part)
        {
            try
            {
                if (part is not null)
                {
                    await part.DisposeAsync();
                }
            }
            catch (Exception exception)
            {
                failures.Enqueue(exception);
            }
        }

        await StopAsync(Haproxy);
        foreach (var index in _cut.Where(index => index < _nodes.Count))
        {
            // A host without network cannot leave the cluster gracefully; it would only wait out its shutdown timeout.
            _nodes[index].Process.Signal("KILL");
        }

        await Task.WhenAll(_nodes.Select(StopAsync));
        await StopAsync(Simulator);
        foreach (var vm in _vms)
        {
            await StopAsync(vm);
        }

        await StopAsync(Redis);
        await StopAsync(Vnc);

        // Last: a namespace only goes away once no process runs in it any more.
        await StopAsync(Network);
        _nodes.Clear();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        if (!failures.IsEmpty)
        {
            throw new AggregateException("Stopping the separate-hosts fixture failed", failures);
        }
    }
}

[TestMethodOrderer(typeof(DeclarationOrder))]
[Collection(MachineWide.Name)]
public sealed class SeparateHostsTests(SeparateHostsFixture fixture, ITestOutputHelper output) : IClassFixture<SeparateHostsFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EachNodeRunsOnItsOwnHost_AndTheThreeSilosFormOneCluster_AdvertisingTheirHostAddresses()
    {
        foreach (var (node, host) in fixture.Nodes.Zip(fixture.Network.Hosts))
        {
            // ip netns exec execs in place: the PID the test stops is the node itself, inside its host's namespace.
            Assert.Equal(host.Namespace, await NetworkHost.NamespaceOfAsync(node.Process.Pid));
            Assert.Equal(Repo.RelayExecutable, new FileInfo($"/proc/{node.Process.Pid}/exe").LinkTarget);
        }

        var expected = fixture.Network.Hosts.Select(host => $"{host.Address}:{SeparateHostsFixture.SiloPort}").Order(StringComparer.Ordinal).ToList();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        List<string> active = [];
        await Eventually.HoldsAsync(async () =>
        {
            active = await ActiveSilosAsync(redis.GetDatabase());
            return active.SequenceEqual(expected);
        }, Timeout, $"Redis membership lists exactly the three host addresses as Active silos ({string.Join(", ", expected)})");
        Assert.DoesNotContain(active, silo => silo.StartsWith("127.", StringComparison.Ordinal));

        using var admin = fixture.Nodes[0].AdminClient();
        await Eventually.HoldsAsync(async () =>
        {
            var nodes = (await admin.GetFromJsonAsync<JsonElement>("/api/sessions")).GetProperty("nodes").EnumerateArray().Select(n => n.GetString());
            return nodes.SequenceEqual(["host-a", "host-b", "host-c"]);
        }, Timeout, "host a's node directory lists the nodes of all three hosts");
    }

    [Fact]
    public async Task SessionThroughHaproxy_ReachesTheVncServer_BothWays_AndTheNodeSeesTheRealClient()
    {
        await using var session = await OpenRfbAsync(fixture.ThroughHaproxy(fixture.Token), "HAProxy relays a session to the VNC server");

        using var admin = fixture.Nodes[1].AdminClient();
        JsonElement listed = default;
        await Eventually.HoldsAsync(async () =>
        {
            var sessions = (await admin.GetFromJsonAsync<JsonElement>("/api/sessions")).GetProperty("sessions").EnumerateArray().ToList();
            listed = sessions.SingleOrDefault();
            return sessions.Count == 1;
        }, Timeout, "host b's admin API lists the one live session, wherever it runs");
        Assert.Contains(listed.GetProperty("node").GetString(), new[] { "host-a", "host-b", "host-c" });
        Assert.Equal(fixture.VncTarget, listed.GetProperty("target").GetString());
        // HAProxy connects from the bridge address; the node believes its X-Forwarded-For and logs the test's address.
        Assert.Equal("127.0.0.1", listed.GetProperty("client").GetString());
    }

    [Fact]
    public async Task TokenWrittenOnHostA_WorksStraightThroughHostB()
    {
        var token = "written-on-a-" + Guid.NewGuid().ToString("N")[..12];
        TokenFiles.Rewrite(fixture.TokenFile, (fixture.Token, fixture.VncTarget), (token, fixture.VncTarget));

        var hostB = fixture.Nodes[1];
        Assert.Null(hostB.Settings.TokenFile);
        await using var session = await OpenRfbAsync(hostB.WebSocketUri(token), $"host b ({hostB.Address}) relays the token written on host a");
    }

    [Fact]
    public async Task HostCarryingSessionsAndTheSync_IsCutOff_SessionsElsewhereSurvive_NewSessionsGoToTheOthers_AndTheSyncResumesOnASurvivor()
    {
        // The host to cut is the one that runs the singleton sync grain, wherever Orleans placed it.
        var syncHost = await SyncStatus.HostAsync(fixture.Nodes[0], Timeout);
        var victim = fixture.Nodes.Select((node, i) => (node, i)).Single(n => n.node.Settings.SiloName == syncHost).i;
        var survivors = fixture.Nodes.Where((_, i) => i != victim).ToList();

        // Every node has looked every token up once: a survivor answers from its cache even if the token's grain lived
        // on the host that goes away. A silent host is declared dead about when HAProxy drops it (10 s against 9 s
        // measured here with the probe timeout at 2 s and capped there; 26 s with Orleans' own cap of 4 x), and until then a call
        // to a grain on it only times out.
        foreach (var node in fixture.Nodes)
        {
            foreach (var token in fixture.VmTokens)
            {
                await using var direct = await ConsoleClient.OpenEchoingAsync(node, token);
            }
        }

        // One session through HAProxy on every host, placed by HAProxy's own source hash.
        var cursor = 1;
        var sessions = new List<(int Node, IPAddress Source, ConsoleClient Client)>();
        try
        {
            for (var i = 0; i < fixture.Nodes.Count; i++)
            {
                var source = HaproxySourceHash.SourceFor(i + 1, fixture.Nodes.Count, ref cursor);
                sessions.Add((i, source, await ConsoleClient.OpenEchoingAsync(fixture.ThroughHaproxy(fixture.VmTokens[i]),
                    $"a session from {source} through HAProxy to {fixture.Nodes[i].Settings.SiloName}", source)));
                Assert.Equal(fixture.Nodes[i].Settings.SiloName, await CarrierAsync(survivors[0], source));
            }

            var cut = Stopwatch.StartNew();
            await fixture.CutAsync(victim);
            await Eventually.HoldsAsync(async () => (await fixture.Haproxy.ServerStatusAsync($"relay{victim + 1}")).StartsWith("DOWN", StringComparison.Ordinal),
                Timeout, $"HAProxy marks relay{victim + 1} (host {fixture.Network.Hosts[victim].Name}) DOWN after its link was cut");
            var markedDown = cut.Elapsed;

            // on-marked-down shutdown-sessions: the browser's session on the cut host is cut too, so noVNC reconnects.
            var orphan = sessions.Single(s => s.Node == victim);
            var ended = await Record.ExceptionAsync(() => orphan.Client.ReadUntilCloseAsync(Timeout));
            Assert.True(ended is null or WebSocketException, $"the session on the cut host ends, not {ended}");
            foreach (var (node, _, client) in sessions.Where(s => s.Node != victim))
            {
                Assert.True(await client.EchoesAsync(), $"the session on {fixture.Nodes[node].Settings.SiloName} relays after host {fixture.Network.Hosts[victim].Name} was cut");
            }

            // The cut host's own client (its source hashed there) comes back on another host.
            TimeSpan movedOn, listed;
            await using (var again = await ConsoleClient.OpenEchoingAsync(fixture.ThroughHaproxy(fixture.VmTokens[victim]),
                $"a new session from {orphan.Source} (the cut host's client) works through HAProxy", orphan.Source))
            {
                movedOn = cut.Elapsed;
                Assert.Contains(await CarrierAsync(survivors[0], orphan.Source), survivors.Select(n => n.Settings.SiloName));
                listed = cut.Elapsed;
            }

            // The survivors' silos declare the silent one dead; then the sync grain comes back on one of them.
            var cutAddress = fixture.Nodes[victim].Address;
            await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
            await Eventually.HoldsAsync(async () => !(await ActiveSilosAsync(redis.GetDatabase())).Any(a => a.StartsWith(cutAddress + ":", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(150), $"Orleans membership stops listing the cut host {cutAddress} as Active");
            var declaredDead = cut.Elapsed;
            var newSyncHost = await SyncStatus.HostAsync(survivors[0], TimeSpan.FromSeconds(90), host => host != syncHost);
            Assert.Contains(newSyncHost, survivors.Select(n => n.Settings.SiloName));
            var syncMoved = cut.Elapsed;
            var newToken = await fixture.AddVmAsync();
            await using (var fresh = await ConsoleClient.OpenEchoingAsync(fixture.ThroughHaproxy(newToken),
                "a VM added to Abiquo after the cut is synced by a survivor and opens through HAProxy", timeout: TimeSpan.FromSeconds(60)))
            {
            }

            var synced = cut.Elapsed;
            foreach (var (node, _, client) in sessions.Where(s => s.Node != victim))
            {
                Assert.True(await client.EchoesAsync(), $"the session on {fixture.Nodes[node].Settings.SiloName} still relays at the end");
            }

            output.WriteLine($"host cut: {fixture.Nodes[victim].Settings.SiloName} carried a session and the sync grain; HAProxy marked it DOWN after {markedDown.TotalSeconds:F1} s; " +
                $"its client's new session worked on another host after {movedOn.TotalSeconds:F1} s (the cluster-wide session list showed it after {listed.TotalSeconds:F1} s); " +
                $"{sessions.Count - 1}/{sessions.Count - 1} sessions on the other hosts kept relaying");
            output.WriteLine($"host cut: Orleans declared the silent silo dead after {declaredDead.TotalSeconds:F1} s; the sync grain ran on {newSyncHost} after {syncMoved.TotalSeconds:F1} s; " +
                $"a VM added then opened after {synced.TotalSeconds:F1} s (all from the cut)");
        }
        finally
        {
            foreach (var (_, _, client) in sessions)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// How long the cluster-wide list may answer 503 after a cut: the node directory grain may have lived on the silent
    /// host, and calls to it fail until membership declares that host dead (about 10 s), later on a loaded run.
    /// A deadline, not a measurement: the test prints the time it took.
    /// </summary>
    private static readonly TimeSpan ListingAfterCut = TimeSpan.FromSeconds(90);

    /// <summary>The node that carries the live session of client <paramref name="source"/>, from <paramref name="admin"/>'s cluster-wide list.</summary>
    private static async Task<string> CarrierAsync(RelayNodeProcess admin, IPAddress source)
    {
        string? carrier = null;
        using var http = admin.AdminClient();
        http.Timeout = TimeSpan.FromSeconds(10);
        await Eventually.HoldsAsync(async () =>
        {
            carrier = (await http.GetFromJsonAsync<JsonElement>("/api/sessions")).GetProperty("sessions").EnumerateArray()
                .LastOrDefault(s => s.GetProperty("client").GetString() == source.ToString()) is { ValueKind: JsonValueKind.Object } listed
                ? listed.GetProperty("node").GetString()
                : null;
            return carrier is not null;
        }, ListingAfterCut, $"{admin.Settings.SiloName}'s admin API lists the session of client {source}");
        return carrier!;
    }

    /// <summary>Opens a session and proves it reaches the VNC server: its banner arrives and bytes come back.</summary>
    private static async Task<ConsoleClient> OpenRfbAsync(Uri uri, string what)
    {
        ConsoleClient? opened = null;
        await Eventually.HoldsAsync(async () =>
        {
            var client = await ConsoleClient.ConnectAsync(uri);
            try
            {
                if (!(await client.ReadExactlyAsync(SeparateHostsFixture.RfbBanner.Length, TimeSpan.FromSeconds(5))).SequenceEqual(SeparateHostsFixture.RfbBanner))
                {
                    throw new InvalidOperationException("the first bytes are not the RFB banner");
                }

                var probe = RandomNumberGenerator.GetBytes(4096);
                await client.SendAsync(probe);
                if (!(await client.ReadExactlyAsync(probe.Length, TimeSpan.FromSeconds(5))).SequenceEqual(probe))
                {
                    throw new InvalidOperationException("the VNC server's echo differs from what was sent");
                }

                opened = client;
                return true;
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
        }, Timeout, what);
        return opened!;
    }

    /// <summary>
    /// "ip:port" of the Active rows (Status 3) of this cluster's Redis membership table, sorted. A row's value is JSON
    /// with {"SiloAddress":{"SiloAddress":"10.0.0.5:11111@GENERATION"},"Status":3,...}; the "Version" field is not a row.
    /// </summary>
    private async Task<List<string>> ActiveSilosAsync(IDatabase redis)
    {
        var rows = await redis.HashGetAllAsync($"{fixture.ClusterId}/members/{fixture.ClusterId}");
        return [.. rows
            .Where(row => row.Name != "Version")
            .Select(row => JsonDocument.Parse(row.Value.ToString()).RootElement)
            .Where(entry => entry.GetProperty("Status").GetInt32() == 3)
            .Select(entry => entry.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString()!.Split('@')[0])
            .Order(StringComparer.Ordinal)];
    }
}
