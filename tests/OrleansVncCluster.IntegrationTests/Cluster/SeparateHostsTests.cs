using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// Three simulated hosts (network namespaces "a", "b", "c" on one bridge), one relay node on each at its own address,
/// all on the same ports as real hosts would be. Redis, HAProxy (the shipped config) and a VNC server stand in the root
/// namespace on the bridge address, where every host reaches them. Only host "a" has a token file.
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

    public string ClusterId { get; } = "hosts-" + Guid.NewGuid().ToString("N")[..8];
    public string Token { get; } = "hosts-" + Guid.NewGuid().ToString("N")[..16];
    public NetworkNamespaces Network { get; private set; } = null!;
    public RedisServer Redis { get; private set; } = null!;
    public TcpTarget Vnc { get; private set; } = null!;
    public HaproxyServer Haproxy { get; private set; } = null!;
    public IReadOnlyList<RelayNodeProcess> Nodes => _nodes;

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

        var starting = Network.Hosts.Select((host, i) => RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            Host = host,
            SiloName = "host-" + host.Name,
            RedisConnectionString = Redis.ConnectionString,
            TokenFile = i == 0 ? TokenFile : null,
            Environment = new()
            {
                ["Orleans__ClusterId"] = ClusterId,
                ["Orleans__ServiceId"] = ClusterId,
                // HAProxy reaches the hosts from the bridge address: only its X-Forwarded-For is believed.
                ["Relay__TrustedProxies__0"] = $"{bridge}/32",
                ["Relay__DrainBudget"] = "00:00:01",
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
    public async Task HostWhoseLinkIsCut_IsDroppedByHaproxy_AndNewSessionsGoToTheOtherHosts()
    {
        // Every node has looked the token up once: whichever survives answers from its cache even if the token's grain
        // lived on the host that goes away. A silent host is declared dead later than HAProxy drops it (27 s against
        // 9 s measured here with Orleans:Membership:ProbeTimeout 2 s; 63 s with Orleans' 5 s default), and until then a
        // call to a grain on it only times out.
        foreach (var node in fixture.Nodes)
        {
            await using var direct = await OpenRfbAsync(node.WebSocketUri(fixture.Token), $"{node.Settings.SiloName} relays the token");
        }

        var live = await OpenRfbAsync(fixture.ThroughHaproxy(fixture.Token), "HAProxy relays a session");
        await using var _ = live;
        var serving = await ServingNodeAsync(fixture.Nodes);

        var cut = System.Diagnostics.Stopwatch.StartNew();
        await fixture.CutAsync(serving);
        await Eventually.HoldsAsync(async () => (await fixture.Haproxy.ServerStatusAsync($"relay{serving + 1}")).StartsWith("DOWN", StringComparison.Ordinal),
            Timeout, $"HAProxy marks relay{serving + 1} (host {fixture.Network.Hosts[serving].Name}) DOWN after its link was cut");

        // on-marked-down shutdown-sessions: the browser's session is cut too, so noVNC reconnects elsewhere.
        var ended = await Record.ExceptionAsync(() => live.ReadUntilCloseAsync(Timeout));
        Assert.True(ended is null or WebSocketException, $"the session on the cut host ends, not {ended}");

        await using var again = await OpenRfbAsync(fixture.ThroughHaproxy(fixture.Token), "HAProxy relays a new session to another host");
        // Exactly one of the other hosts has it (the cut host cannot even be asked).
        await ServingNodeAsync([.. fixture.Nodes.Where((_, i) => i != serving)]);
        var movedOn = cut.Elapsed;

        // The survivors' silos declare the silent one dead; until then its grains (tokens, leases) only time out.
        var cutAddress = fixture.Nodes[serving].Address;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.ConnectionString);
        await Eventually.HoldsAsync(async () => !(await ActiveSilosAsync(redis.GetDatabase())).Any(a => a.StartsWith(cutAddress + ":", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(150), $"Orleans membership stops listing the cut host {cutAddress} as Active");
        output.WriteLine($"link cut: HAProxy DOWN and new sessions elsewhere after {movedOn.TotalSeconds:F1} s; " +
            $"Orleans declared the silent silo dead after {cut.Elapsed.TotalSeconds:F1} s");
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

    /// <summary>The index in <paramref name="nodes"/> of the one node with a live session (the others have none).</summary>
    private static async Task<int> ServingNodeAsync(IReadOnlyList<RelayNodeProcess> nodes)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var serving = -1;
        await Eventually.HoldsAsync(async () =>
        {
            var active = await Task.WhenAll(nodes.Select(async node =>
                (await http.GetStringAsync(node.AdminUri("/metrics"))).Contains("vnc_relay_active_sessions 1\n", StringComparison.Ordinal)));
            serving = Array.IndexOf(active, true);
            return active.Count(a => a) == 1;
        }, Timeout, $"exactly one of {string.Join(", ", nodes.Select(n => n.Settings.SiloName))} has the live session");
        return serving;
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
