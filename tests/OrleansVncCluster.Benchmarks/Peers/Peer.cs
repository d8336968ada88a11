using System.Globalization;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>Something sessions go through: a relay under test, or a reference point (socat, a direct connection).</summary>
internal abstract class Peer : IAsyncDisposable
{
    public abstract string Name { get; }

    public abstract IBenchEndpoint Endpoint { get; }

    /// <summary>The processes whose trees are this peer's cost (memory, CPU); empty for a direct connection.</summary>
    public abstract IReadOnlyList<PeerProcess> Processes { get; }

    public long TreeRssKiB() => Processes.Sum(p => ProcFs.TreeRssKiB(p.Pid));

    public long TreePssKiB() => Processes.Sum(p => ProcFs.TreePssKiB(p.Pid));

    public double TreeCpuSeconds() => Processes.Sum(p => ProcFs.TreeCpuSeconds(p.Pid));

    public int TreeFdCount() => Processes.Sum(p => ProcFs.TreeFdCount(p.Pid));

    public int TreeSize() => Processes.Sum(p => ProcFs.TreeSize(p.Pid));

    /// <summary>True when the peer forks a process per session: its memory is then read as PSS, not summed RSS.</summary>
    public virtual bool ForksPerSession => false;

    /// <summary>Descriptors each session costs every process of this peer; null when sessions fork their own process.</summary>
    public virtual int? DescriptorsPerSession => null;

    /// <summary>
    /// Sessions the peer can still take before a process runs out of descriptors (null: not bounded that way). The idle
    /// workload stops there: past it a node measures its own EMFILE handling, not the memory a session costs.
    /// </summary>
    public int? SessionCapacity(int descriptorLimit, int reserve = 256) =>
        DescriptorsPerSession is { } perSession && Processes.Count > 0
            ? Processes.Min(p => (descriptorLimit - ProcFs.FdCount(p.Pid) - reserve) / perSession)
            : null;

    public void ThrowIfExited()
    {
        foreach (var process in Processes)
        {
            process.ThrowIfExited();
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var process in Processes.Reverse())
        {
            await process.DisposeAsync();
        }
    }

    protected static string Loopback(int port) => "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Returns <paramref name="peer"/> once <paramref name="ready"/> completes; stops it if that fails.</summary>
    protected static async Task<TPeer> ReadyOrStoppedAsync<TPeer>(TPeer peer, Func<Task> ready)
        where TPeer : Peer
    {
        try
        {
            await ready();
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }

        return peer;
    }
}

/// <summary>No relay at all: the client connects straight to the target (the floor of every latency).</summary>
internal sealed class DirectPeer(TargetSet targets) : Peer
{
    public override string Name => "direct";

    public override IBenchEndpoint Endpoint { get; } = new TcpEndpoint(targets.Ports);

    public override IReadOnlyList<PeerProcess> Processes => [];
}

/// <summary>
/// socat as a plain TCP relay, one process per target (socat relays to one fixed address): the no-WebSocket limit.
/// </summary>
internal sealed class SocatPeer : Peer
{
    private readonly List<PeerProcess> _processes = [];
    private readonly Dictionary<string, int> _ports = [];

    private SocatPeer()
    {
        Endpoint = new TcpEndpoint(_ports);
    }

    public override string Name => "socat";

    public override bool ForksPerSession => true;

    public override IBenchEndpoint Endpoint { get; }

    public override IReadOnlyList<PeerProcess> Processes => _processes;

    public static async Task<SocatPeer> StartAsync(TargetSet targets, string workDir)
    {
        var peer = new SocatPeer();
        return await ReadyOrStoppedAsync(peer, async () =>
        {
            foreach (var (name, targetPort) in targets.Ports)
            {
                var port = Ports.Free();
                var process = PeerProcess.Start($"socat {name}", "socat",
                    ["-b", "65536", $"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr,backlog=4096", $"TCP:127.0.0.1:{targetPort}"],
                    Path.Combine(workDir, $"socat-{name}.log"));
                peer._processes.Add(process);
                peer._ports[name] = port;
                await process.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
            }
        });
    }
}

/// <summary>
/// HAProxy in TCP mode in front of each target: an event-driven proxy in C with no WebSocket, no token and no lookup,
/// so its set-up is what any relay's second connection and hop cost at least. Set-up only: it is the reference for the
/// Redis-backed set-up row's "within 2x of direct" (issue 17), not a peer the relay is judged against.
/// </summary>
internal sealed class HaproxyTcpPeer : Peer
{
    public const string PeerName = "haproxy (TCP)";

    private readonly PeerProcess _process;

    private HaproxyTcpPeer(PeerProcess process, Dictionary<string, int> ports)
    {
        _process = process;
        Endpoint = new TcpEndpoint(ports);
    }

    public override string Name => PeerName;

    public override IBenchEndpoint Endpoint { get; }

    public override IReadOnlyList<PeerProcess> Processes => [_process];

    public static async Task<HaproxyTcpPeer> StartAsync(TargetSet targets, string workDir)
    {
        var ports = targets.Ports.ToDictionary(target => target.Key, _ => Ports.Free());
        var listeners = string.Concat(targets.Ports.Select(target => $"""

            listen {target.Key}
                bind {Loopback(ports[target.Key])}
                server {target.Key} {Loopback(target.Value)}

            """));
        var config = Path.Combine(workDir, "haproxy-tcp.cfg");
        await File.WriteAllTextAsync(config, $"""
            global
                maxconn 9000

            defaults
                mode tcp
                maxconn 9000
                timeout connect 5s
                timeout client 1h
                timeout server 1h
            {listeners}
            """);
        var process = PeerProcess.Start(PeerName, "haproxy", ["-f", config, "-db"], Path.Combine(workDir, "haproxy-tcp.log"));
        return await ReadyOrStoppedAsync(new HaproxyTcpPeer(process, ports),
            () => Task.WhenAll(ports.Values.Select(port => process.WaitForPortAsync(port, TimeSpan.FromSeconds(10)))));
    }
}

/// <summary>Debian's websockify 0.10 with a token file, the relay this project replaces.</summary>
internal sealed class WebsockifyPeer : Peer
{
    private readonly PeerProcess _process;

    private WebsockifyPeer(PeerProcess process, int port)
    {
        _process = process;
        Endpoint = new WebSocketEndpoint(port);
    }

    public override string Name => "websockify";

    public override bool ForksPerSession => true;

    public override IBenchEndpoint Endpoint { get; }

    public override IReadOnlyList<PeerProcess> Processes => [_process];

    public static async Task<WebsockifyPeer> StartAsync(string tokenFile, string workDir, string logName = "websockify")
    {
        var port = Ports.Free();
        var process = PeerProcess.Start("websockify", "websockify", [$"--target-config={tokenFile}", Loopback(port)],
            Path.Combine(workDir, logName + ".log"));
        return await ReadyOrStoppedAsync(new WebsockifyPeer(process, port), () => process.WaitForPortAsync(port, TimeSpan.FromSeconds(20)));
    }
}

/// <summary>This project's node, configured the native way (environment), on free ports with its own silo port.</summary>
internal sealed class RelayPeer : Peer
{
    private readonly PeerProcess _process;

    private RelayPeer(string name, PeerProcess process, RelayPorts ports, string address)
    {
        Name = name;
        _process = process;
        Ports = ports;
        Address = address;
        Endpoint = new WebSocketEndpoint(ports.Relay, address);
    }

    /// <summary>"relay", "relay (redis)" for the Redis-backed node, or "relay-baseline" for the build a change is compared with.</summary>
    public override string Name { get; }

    /// <summary>The browser's connection and the VNC server's.</summary>
    public override int? DescriptorsPerSession => 2;

    public RelayPorts Ports { get; }

    /// <summary>The address every listener binds (127.0.0.1, or a simulated host's address in its network namespace).</summary>
    public string Address { get; }

    public int Port => Ports.Relay;

    public int AdminPort => Ports.Admin;

    public int Pid => _process.Pid;

    public PeerProcess Process => _process;

    public override IBenchEndpoint Endpoint { get; }

    public override IReadOnlyList<PeerProcess> Processes => [_process];

    /// <summary>Starts a node and returns once /readyz answers 200.</summary>
    /// <param name="ports">Fixed ports (a cluster node that is restarted where HAProxy expects it); none = free ones.</param>
    /// <param name="agent">With free ports: also answer HAProxy's agent on a free port (a node HAProxy fronts), not none.</param>
    /// <param name="address">The address to listen on and advertise to the cluster.</param>
    /// <param name="networkNamespace">A simulated host to run in (`ip netns exec` execs in place: the PID is the node's).</param>
    public static async Task<RelayPeer> StartAsync(string relayPath, string tokenFile, string workDir, string logName,
        IReadOnlyDictionary<string, string>? extraEnvironment = null, string name = "relay", string? passwordFile = null,
        RelayPorts? ports = null, string address = "127.0.0.1", string? networkNamespace = null, bool agent = false)
    {
        var cluster = ports is not null;
        ports ??= new RelayPorts(Testing.Ports.Free(), Testing.Ports.Free(), Testing.Ports.Free(), Testing.Ports.Free(), Agent: agent ? Testing.Ports.Free() : 0);
        var environment = new Dictionary<string, string>
        {
            ["Relay__Listen"] = At(address, ports.Relay),
            ["Relay__AdminListen"] = At(address, ports.Admin),
            // No HAProxy agent on a lone node unless asked: its default port 8081 would collide with any other node here.
            ["Relay__AgentListen"] = ports.Agent == 0 ? "" : At(address, ports.Agent),
            ["Orleans__Endpoints__SiloPort"] = ports.Silo.ToString(CultureInfo.InvariantCulture),
            ["Orleans__Endpoints__GatewayPort"] = ports.Gateway.ToString(CultureInfo.InvariantCulture),
            ["Tokens__Files__0"] = tokenFile,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            // Every benchmark client comes from 127.0.0.1, so the per-address limits (Limits/) would refuse the load
            // itself. They are raised out of the way rather than turned off: set-up then still pays for what a
            // production node does (the handshake rate limiter, a lease on the client's and on the token's grain).
            ["Limits__MaxSessionsPerClient"] = "1000000",
            ["Limits__MaxSessionsPerToken"] = "1000000",
            ["Limits__HandshakesPerSecond"] = "1000000",
            ["Limits__HandshakeBurst"] = "1000000",
            ["Limits__MaxFailedTokens"] = "0",
            // The idle tiers measure how many sessions the descriptors carry: no session cap below Kestrel's own
            // (an unset Relay:MaxSessions would default to a share of the open-file limit).
            ["Relay__MaxSessions"] = "0",
        };
        if (cluster)
        {
            // Silos of one cluster find each other at the advertised address; left to itself a silo picks a NIC's.
            environment["Orleans__Endpoints__AdvertisedIPAddress"] = address;
        }

        if (passwordFile is not null)
        {
            environment["Tokens__PasswordFiles__0"] = passwordFile;
        }

        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = networkNamespace is null
            ? PeerProcess.Start("vnc-relay", relayPath, [], Path.Combine(workDir, logName + ".log"), environment)
            : PeerProcess.Start($"vnc-relay in {networkNamespace}", NetworkNamespaces.Ip, ["netns", "exec", networkNamespace, relayPath],
                Path.Combine(workDir, logName + ".log"), environment);
        // /readyz, as HAProxy and Kubernetes do: it waits for the node's token file as well as its silo. /healthz answered
        // before the file was loaded, and the idle run of 4cac9c0 met 64 refusals (4404) in a row and held no session.
        return await ReadyOrStoppedAsync(new RelayPeer(name, process, ports, address),
            () => process.WaitForHttpOkAsync($"http://{At(address, ports.Admin)}/readyz", TimeSpan.FromSeconds(90)));
    }

    private static string At(string address, int port) => address + ":" + port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// HAProxy running the shipped haproxy/haproxy.cfg (<see cref="ShippedHaproxy"/>) in front of that one node, as operators
/// run it: its per-source limits, header rules, health and agent checks and request log all on the measured path.
/// </summary>
internal sealed class HaproxyPeer : Peer
{
    /// <summary>
    /// The bench's one client address stands in for thousands of browsers: the shipped per-source limits (200
    /// connections, 400 requests per 10 s from one address) would refuse the load itself, so they are raised out of the
    /// way, not removed (the stick table still tracks every connection); maxconn stays under what 20,000 descriptors
    /// allow HAProxy (two per tunnelled session).
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> BenchClientSettings = new Dictionary<string, string>
    {
        ["HAPROXY_SRC_MAXCONN"] = "1000000",
        ["HAPROXY_SRC_REQ_RATE"] = "1000000",
        ["HAPROXY_MAXCONN"] = "9000",
        ["RELAY_MAXCONN"] = "9000",
    };

    private readonly ShippedHaproxy _haproxy;
    private readonly RelayPeer _relay;

    private HaproxyPeer(ShippedHaproxy haproxy, RelayPeer relay)
    {
        _haproxy = haproxy;
        _relay = relay;
    }

    public override string Name => "relay+haproxy";

    /// <summary>HAProxy and the relay each hold two per tunnelled session.</summary>
    public override int? DescriptorsPerSession => 2;

    public override IBenchEndpoint Endpoint => _haproxy.Endpoint;

    /// <summary>Both processes: a session through HAProxy costs its memory and CPU plus the relay's.</summary>
    public override IReadOnlyList<PeerProcess> Processes => [_relay.Processes[0], _haproxy.Process];

    public static async Task<HaproxyPeer> StartAsync(RelayPeer relay, string configFile, string workDir) =>
        new(await ShippedHaproxy.StartAsync(configFile, [relay], workDir, BenchClientSettings), relay);

    /// <summary>Stops HAProxy only; the relay belongs to whoever started it.</summary>
    public override ValueTask DisposeAsync() => _haproxy.DisposeAsync();
}
