using System.Globalization;

namespace OrleansVncCluster.Benchmarks;

/// <summary>The command line of `vnc-bench run`.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        vnc-bench run --relay PATH [--simulator PATH] [--out DIR] [--doc FILE] [--quick] [--throughput-seconds N] [--idle-tiers N,M] [--idle-hold-seconds N]
                      [--relay-env NAME=VALUE] [--baseline-relay PATH] [--seed N] [--sync-rate N]
                      [--peers direct,haproxy-tcp,socat,websockify,relay,haproxy,relay-login,relay-redis]
                      [--workloads throughput,setup,echo1k,cold,idle,tokens,sync,sync-1m,failover,silent-host,recording-disk] [--haproxy-config FILE]
          Measures the relay side by side with websockify, socat and a direct connection on this machine.
          --relay      the published node (artifacts/vnc-relay/vnc-relay)
          --simulator  the Abiquo simulator (artifacts/abiquo-simulator/abiquo-simulator), for the sync workloads
          --out        where results.json and results.md go (default artifacts/bench)
          --doc        a Markdown file whose generated section is replaced by this run's results (docs/benchmarks.md)
          --quick      short runs, for checking the bench itself (figures are not comparable)
          --throughput-seconds N   measure each throughput run for N s (to attach a profiler to a peer meanwhile)
          --idle-tiers N,M         idle-session tiers instead of 1000,10000
          --idle-hold-seconds N    keep idle sessions N s after measuring (to take dotnet-gcdump of a peer meanwhile)
          --relay-env NAME=VALUE   extra environment for every relay node, repeatable (DOTNET_PerfMapEnabled=1 for perf)
          --baseline-relay PATH    another build of the node, measured as peer "relay-baseline" beside "relay" in the
                                   throughput and set-up rounds (a change's cost as a ratio from one run)
          --seed N                 the seed of the per-round peer order (default 1; printed in the report)
          --sync-rate N            the sync workloads' sessions (idle baseline and during the sync) started N a second
                                   on a clock (open loop) instead of 16 in a closed loop, which keeps both cores of this
                                   machine busy: what a sync does to a node that has CPU to spare
          --haproxy-config FILE    the HAProxy config of peer relay+haproxy and the failover workload (default
                                   haproxy/haproxy.cfg, the shipped one)
          Peers relay-login ("relay (rfb)" and "relay (login)": the node before a password-protected RFB server, the
          client or the node logging in) and relay-redis (a node on a throwaway redis-server) run on the relay.
          sync-1m: a Redis-backed node's first sync of 1,000,000 VMs, then a re-sync with 1 % of them changed (15 minutes).
          failover: kill -9 of a node of a Redis-backed cluster behind HAProxy, new sessions and a console page in
          Chromium measured back; silent-host: a node's link cut on simulated hosts (network namespaces, needs root).
          Only a full run (no --quick, every peer and workload, no overrides) writes --doc; any other run writes
          --out only.
        vnc-bench serve-banner
          (internal) serves RFB banners on a free port for the idle-session workload
        """;

    public static readonly string[] AllPeers = ["direct", "haproxy-tcp", "socat", "websockify", "relay", "haproxy", "relay-login", "relay-redis", "relay-recorded"];

    public static readonly string[] AllWorkloads = ["throughput", "setup", "echo1k", "cold", "idle", "tokens", "sync", "sync-1m", "failover", "silent-host", "recording-disk"];

    /// <summary>The seed of the per-round peer order, so a run's order can be repeated.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Every peer and workload at their full size, with no override: only such a run may replace the "Last results"
    /// of docs/benchmarks.md; anything else would pass a subset off as the whole.
    /// </summary>
    public bool IsFullRun =>
        !Quick && Peers.SetEquals(AllPeers) && Workloads.SetEquals(AllWorkloads) && ThroughputSecondsOverride is null
        && IdleTiersOverride is null && IdleHold == TimeSpan.Zero && RelayEnvironment.Count == 0 && BaselineRelayPath is null
        && SyncRate is null
        && HaproxyConfig == Path.Combine("haproxy", "haproxy.cfg");

    public required string RelayPath { get; init; }

    /// <summary>The arguments as given, for the report.</summary>
    public string CommandLine { get; init; } = "";

    public string? SimulatorPath { get; init; }

    /// <summary>Another build of the node, measured beside <see cref="RelayPath"/> as peer "relay-baseline".</summary>
    public string? BaselineRelayPath { get; init; }

    public string OutputDirectory { get; init; } = Path.Combine("artifacts", "bench");

    public string? DocFile { get; init; }

    public bool Quick { get; init; }

    /// <summary>How long idle sessions are held after the memory reading (to take a heap dump of a peer meanwhile).</summary>
    public TimeSpan IdleHold { get; init; }

    /// <summary>Extra environment for every relay node (e.g. DOTNET_PerfMapEnabled=1 to profile it with perf).</summary>
    public IReadOnlyDictionary<string, string> RelayEnvironment { get; init; } = new Dictionary<string, string>();

    public IReadOnlySet<string> Peers { get; init; } = new HashSet<string>(AllPeers);

    public IReadOnlySet<string> Workloads { get; init; } = new HashSet<string>(AllWorkloads);

    /// <summary>
    /// Rounds of each throughput and set-up workload, peers interleaved within a round; the median round is reported.
    /// A shared 2-core machine has bursts of foreign load: interleaving spreads them over all peers alike.
    /// </summary>
    public int Rounds => Quick ? 1 : 3;

    public TimeSpan ThroughputDuration => TimeSpan.FromSeconds(ThroughputSecondsOverride ?? (Quick ? 1 : 3));

    /// <summary>Longer runs, for attaching a profiler to a peer while it works.</summary>
    public double? ThroughputSecondsOverride { get; init; }

    public TimeSpan ThroughputWarmup => TimeSpan.FromSeconds(Quick ? 0.3 : 0.5);

    public int[] ThroughputConnections => [1, 16];

    /// <summary>Frames in flight per echo connection: enough to keep the pipe busy, bounded so memory stays flat.</summary>
    public int EchoWindowFrames => 4;

    public int SetupSessions => Quick ? 200 : 1000;

    public int SetupConcurrency => 16;

    public int SetupWarmupSessions => Quick ? 20 : 100;

    /// <summary>Sessions measured on a freshly started node, with no warm-up (the cold-node workload).</summary>
    public int ColdSessions => Quick ? 200 : 1000;

    /// <summary>The small frames of the per-message workload (echo1k).</summary>
    public int SmallFrameBytes => 1024;

    public int[] IdleTiers => IdleTiersOverride ?? (Quick ? [200, 1000] : [1000, 10_000]);

    /// <summary>Other idle tiers, for profiling memory below the descriptor ceiling.</summary>
    public int[]? IdleTiersOverride { get; init; }

    public int TokenFileTokens => Quick ? 2000 : 10_000;

    public int[] SyncVms => Quick ? [1000, 10_000] : [10_000, 100_000];

    /// <summary>
    /// Sessions a sync workload's fresh node serves, unmeasured, before its idle baseline: long enough for tiered
    /// compilation to settle. On a node warmed by 1,100 sessions, a JIT trace still showed 200-600 methods a second
    /// recompiled through the whole 17 s of a 100,000-VM sync, the node's first seconds measured instead of the sync's cost
    /// (the cold workload measures those). A sync in production runs on a node that has served for hours.
    /// </summary>
    public TimeSpan SyncWarmup => TimeSpan.FromSeconds(Quick ? 2 : 15);

    /// <summary>
    /// Sessions a second started on a clock for the sync workloads, or null for <see cref="SetupConcurrency"/> sessions
    /// in a closed loop. A closed loop opens sessions as fast as the node answers, so it leaves no idle CPU on this
    /// machine and anything a sync takes comes out of the sessions; a rate below the node's capacity leaves it room.
    /// </summary>
    public int? SyncRate { get; init; }

    /// <summary>How the sync workloads open their sessions.</summary>
    public SessionPace SyncPace => new(SetupConcurrency, SyncRate);

    /// <summary>How long a sync workload measures its node's idle set-up: a window about as long as the 100,000-VM sync
    /// and its 1,000,000-VM re-sync it is compared with, so the node's own periodic work falls in both. A p99 of 1,000
    /// sessions (0.7 s) is their 10th slowest, and seldom saw that work.</summary>
    public TimeSpan SyncIdleWindow => TimeSpan.FromSeconds(Quick ? 2 : 15);

    /// <summary>VMs of the sync-1m workload; a quick run checks the workload on a tenth.</summary>
    public int SyncMillionVms => Quick ? 100_000 : 1_000_000;

    /// <summary>kill -9 rounds of the failover workload (issue 17 asks for 5).</summary>
    public int FailoverKills => Quick ? 2 : 5;

    /// <summary>kill -9 rounds under a console page in Chromium.</summary>
    public int ConsoleKills => Quick ? 1 : 3;

    /// <summary>Link cuts of the silent-host workload, each on a fresh node.</summary>
    public int SilentHostCuts => Quick ? 1 : 3;

    /// <summary>The HAProxy config the failover workload runs: the shipped one unless told otherwise.</summary>
    public string HaproxyConfig { get; init; } = Path.Combine("haproxy", "haproxy.cfg");

    public bool Runs(string peer) => Peers.Contains(peer);

    public bool Measures(string workload) => Workloads.Contains(workload);

    public static BenchOptions Parse(string[] args)
    {
        string? relay = null;
        string? baseline = null;
        string? simulator = null;
        string? output = null;
        string? doc = null;
        string? haproxyConfig = null;
        var quick = false;
        var seed = 1;
        int? syncRate = null;
        double? seconds = null;
        var idleHold = TimeSpan.Zero;
        int[]? idleTiers = null;
        var relayEnvironment = new Dictionary<string, string>();
        IReadOnlySet<string>? peers = null;
        IReadOnlySet<string>? workloads = null;
        for (var i = 1; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--relay":
                    relay = Value();
                    break;
                case "--baseline-relay":
                    baseline = Value();
                    break;
                case "--simulator":
                    simulator = Value();
                    break;
                case "--out":
                    output = Value();
                    break;
                case "--doc":
                    doc = Value();
                    break;
                case "--haproxy-config":
                    haproxyConfig = Value();
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--seed":
                    seed = int.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--sync-rate":
                    var rate = Value();
                    syncRate = int.TryParse(rate, NumberStyles.None, CultureInfo.InvariantCulture, out var perSecond) && perSecond is >= 1 and <= 20_000
                        ? perSecond
                        : throw new ArgumentException($"--sync-rate takes sessions a second from 1 to 20000, not '{rate}'");
                    break;
                case "--relay-env":
                    var pair = Value();
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals < 1)
                    {
                        throw new ArgumentException($"--relay-env takes NAME=VALUE, not '{pair}'");
                    }

                    relayEnvironment[pair[..equals]] = pair[(equals + 1)..];
                    break;
                case "--idle-tiers":
                    idleTiers = [.. Value().Split(',').Select(tier => int.Parse(tier, CultureInfo.InvariantCulture))];
                    break;
                case "--idle-hold-seconds":
                    idleHold = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture));
                    break;
                case "--throughput-seconds":
                    seconds = double.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--peers":
                    peers = List(Value(), AllPeers, "--peers");
                    break;
                case "--workloads":
                    workloads = List(Value(), AllWorkloads, "--workloads");
                    break;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }

        if (relay is null && ((peers ?? new HashSet<string>(AllPeers)).Overlaps(["relay", "haproxy", "relay-login", "relay-redis"])
            || (workloads ?? new HashSet<string>(AllWorkloads)).Overlaps(["failover", "silent-host"])))
        {
            throw new ArgumentException($"--relay PATH is required (artifacts/vnc-relay/vnc-relay after `make build`)\n{Usage}");
        }

        return new BenchOptions
        {
            CommandLine = "vnc-bench " + string.Join(' ', args.Select(arg => arg.Contains(' ', StringComparison.Ordinal) ? $"'{arg}'" : arg)),
            RelayPath = relay ?? "",
            SimulatorPath = simulator,
            BaselineRelayPath = baseline,
            OutputDirectory = output ?? Path.Combine("artifacts", "bench"),
            DocFile = doc,
            HaproxyConfig = haproxyConfig ?? Path.Combine("haproxy", "haproxy.cfg"),
            Quick = quick,
            Seed = seed,
            SyncRate = syncRate,
            ThroughputSecondsOverride = seconds,
            RelayEnvironment = relayEnvironment,
            IdleHold = idleHold,
            IdleTiersOverride = idleTiers,
            Peers = peers ?? new HashSet<string>(AllPeers),
            Workloads = workloads ?? new HashSet<string>(AllWorkloads),
        };
    }

    private static HashSet<string> List(string text, string[] allowed, string option)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => item.ToLower(CultureInfo.InvariantCulture)).ToHashSet();
        var unknown = items.Except(allowed).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"{option}: unknown {string.Join(", ", unknown)}; choose from {string.Join(",", allowed)}");
        }

        return items;
    }
}
