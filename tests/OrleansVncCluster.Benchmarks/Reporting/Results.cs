namespace OrleansVncCluster.Benchmarks.Reporting;

/// <summary>Everything one `make bench` run measured; serialized as artifacts/bench/results.json.</summary>
internal sealed record BenchResults
{
    public required MachineInfo Machine { get; init; }

    public required BenchSettings Settings { get; init; }

    public required DateTimeOffset StartedUtc { get; init; }

    public double DurationSeconds { get; set; }

    public List<ThroughputResult> Throughput { get; } = [];

    public List<LatencyResult> Setup { get; } = [];

    /// <summary>The first sessions of a freshly started node, no warm-up (compare with the warm "relay" in <see cref="Setup"/>).</summary>
    public List<LatencyResult> ColdSetup { get; } = [];

    public List<IdleResult> Idle { get; } = [];

    public List<LatencyResult> TokenLookup { get; } = [];

    public List<SyncResult> Sync { get; } = [];

    /// <summary>The sync-1m workload: the first sync of 1,000,000 VMs, then a re-sync with 1 % of them changed.</summary>
    public List<SyncResult> SyncMillion { get; } = [];

    /// <summary>kill -9 of a node behind HAProxy (null when the failover workload did not run).</summary>
    public FailoverResult? Failover { get; set; }

    /// <summary>A node's link cut (null when the silent-host workload did not run).</summary>
    public SilentHostResult? SilentHost { get; set; }

    /// <summary>Disk bytes of a recorded desktop session (null when the recording-disk workload did not run).</summary>
    public RecordingDiskResult? RecordingDisk { get; set; }

    public List<string> Notes { get; } = [];

    public List<TargetVerdict> Targets { get; } = [];
}

/// <summary>The knobs of a run, recorded so figures are read with their workload.</summary>
internal sealed record BenchSettings
{
    public required bool Quick { get; init; }

    public required int Rounds { get; init; }

    public required double ThroughputSeconds { get; init; }

    public required double WarmupSeconds { get; init; }

    public required int FrameBytes { get; init; }

    public required int EchoWindowFrames { get; init; }

    public required int[] ThroughputConnections { get; init; }

    public required int SetupSessions { get; init; }

    public required int SetupConcurrency { get; init; }

    public required int SetupWarmupSessions { get; init; }

    public required int[] IdleTiers { get; init; }

    public required int TokenFileTokens { get; init; }

    public required int[] SyncVms { get; init; }

    public int SyncMillionVms { get; init; }

    /// <summary>Unmeasured sessions a sync workload's node served before its idle baseline (seconds).</summary>
    public double SyncWarmupSeconds { get; init; }

    /// <summary>How a sync workload's node started (its start-up rehearsal's setting and where it came from); null in
    /// results of runs before the sync nodes started as shipped.</summary>
    public string? SyncNodeStart { get; init; }

    /// <summary>The window of a sync workload's idle baseline (seconds).</summary>
    public double SyncIdleWindowSeconds { get; init; }

    /// <summary>How the sync workloads opened their sessions (`--sync-rate`); null in results of runs before it, which
    /// all ran at <see cref="SetupConcurrency"/> in a closed loop.</summary>
    public string? SyncPace { get; init; }

    /// <summary>Whether the bench read the simulator's inventory once before each measured sync (since 2026-12-05), so
    /// the simulator served the sync the VM lists it kept rather than writing them again.</summary>
    public bool SyncInventoryReadFirst { get; init; }

    /// <summary>kill -9 rounds of the failover workload's session trickle and of its console page; link cuts of silent-host.</summary>
    public int FailoverKills { get; init; }

    public int ConsoleKills { get; init; }

    public int SilentHostCuts { get; init; }

    public required string[] Peers { get; init; }

    public required int DescriptorLimit { get; init; }

    /// <summary>The seed of the per-round peer order.</summary>
    public required int Seed { get; init; }

    /// <summary>The commit the run was on (git rev-parse HEAD, "-dirty" with uncommitted changes), "unknown" outside git.</summary>
    public required string Commit { get; init; }

    /// <summary>True when this was a full run (the only kind that replaces the "Last results" of docs/benchmarks.md).</summary>
    public required bool FullRun { get; init; }

    /// <summary>How this run was started (`make bench` runs scripts/bench.sh, which runs this).</summary>
    public required string CommandLine { get; init; }
}

/// <summary>One throughput run: bytes moved per second over the measured window, and what it cost the peer.</summary>
internal sealed record ThroughputResult(
    string Peer,
    string Mode,
    int Connections,
    double Seconds,
    long Bytes,
    double MiBPerSecond,
    double PeerCpuPercent,
    int Failures,
    string? Error)
{
    /// <summary>CPU seconds the peer's processes spent per GiB moved: its efficiency, less sensitive to foreign load than MiB/s.</summary>
    public double PeerCpuSecondsPerGiB => Bytes > 0 ? PeerCpuPercent / 100 * Seconds / (Bytes / (1024.0 * 1024 * 1024)) : 0;

    /// <summary>Bytes per message the client sent (64 KiB, or 1 KiB for the per-message echo).</summary>
    public int FrameBytes { get; init; } = 64 * 1024;

    /// <summary>Messages of <see cref="FrameBytes"/> that made the trip per second.</summary>
    public double MessagesPerSecond => Seconds > 0 ? Bytes / (double)FrameBytes / Seconds : 0;

    /// <summary>Peer CPU microseconds per message moved (the per-message cost).</summary>
    public double PeerCpuMicrosecondsPerMessage => Bytes > 0 ? PeerCpuPercent / 100 * Seconds * 1e6 / (Bytes / (double)FrameBytes) : 0;

    /// <summary>MiB/s of every round; the record itself is the median round.</summary>
    public double[] RoundMiBPerSecond { get; init; } = [];

    /// <summary>The median round (by MiB/s) of <paramref name="rounds"/>, carrying every round's figure.</summary>
    public static ThroughputResult Median(IReadOnlyList<ThroughputResult> rounds) =>
        rounds.OrderBy(r => r.MiBPerSecond).ElementAt((rounds.Count - 1) / 2) with { RoundMiBPerSecond = [.. rounds.Select(r => r.MiBPerSecond)] };

    /// <summary>Two windows of the same peer as one: bytes and seconds summed, CPU weighted by time.</summary>
    public static ThroughputResult Combine(ThroughputResult first, ThroughputResult second)
    {
        var seconds = first.Seconds + second.Seconds;
        var bytes = first.Bytes + second.Bytes;
        return first with
        {
            Seconds = seconds,
            Bytes = bytes,
            MiBPerSecond = seconds > 0 ? bytes / (1024.0 * 1024) / seconds : 0,
            PeerCpuPercent = seconds > 0 ? (first.PeerCpuPercent * first.Seconds + second.PeerCpuPercent * second.Seconds) / seconds : 0,
            Failures = first.Failures + second.Failures,
            Error = first.Error ?? second.Error,
        };
    }
}

/// <summary>Session set-up: connect, WebSocket handshake, token lookup, target connect, first banner byte.</summary>
internal sealed record LatencyResult(
    string Peer,
    string Scenario,
    int Sessions,
    int Concurrency,
    int Succeeded,
    int Failed,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    double MeanMs,
    double SessionsPerSecond,
    string? FirstError)
{
    /// <summary>p99 of every round; the record itself is the median round.</summary>
    public double[] RoundP99Ms { get; init; } = [];

    /// <summary>
    /// The peer's CPU per measured session, opened and closed (µs; its process tree, read from /proc), or null when it has
    /// no process (direct) or shares it with another peer measured in the same window. Across rounds, the median of the
    /// rounds' figures. It moves with the machine's state too: compare it within one run.
    /// </summary>
    public double? PeerCpuUsPerSession { get; init; }

    /// <summary>The median round (by p99) of <paramref name="rounds"/>, carrying every round's p99 and the median CPU per
    /// session of the rounds.</summary>
    public static LatencyResult Median(IReadOnlyList<LatencyResult> rounds)
    {
        var cpu = rounds.Where(r => r.PeerCpuUsPerSession is not null).Select(r => r.PeerCpuUsPerSession!.Value).Order().ToList();
        return rounds.OrderBy(r => r.Failed).ThenBy(r => r.P99Ms).ElementAt((rounds.Count - 1) / 2) with
        {
            RoundP99Ms = [.. rounds.Select(r => r.P99Ms)],
            PeerCpuUsPerSession = cpu.Count == 0 ? null : cpu[(cpu.Count - 1) / 2],
        };
    }
}

/// <summary>Idle sessions held at once, and the resident memory they cost the peer.</summary>
internal sealed record IdleResult(
    string Peer,
    int Requested,
    int Attempted,
    int Reached,
    double OpenSeconds,
    long RssBeforeKiB,
    long RssAfterKiB,
    long PssBeforeKiB,
    long PssAfterKiB,
    int ProcessesAfter,
    int DescriptorsAfter,
    string StopReason,
    string? FirstError)
{
    public double RssGrowthMiB => (RssAfterKiB - RssBeforeKiB) / 1024.0;

    public double PssGrowthMiB => (PssAfterKiB - PssBeforeKiB) / 1024.0;

    public double RssPerSessionKiB => Reached == 0 ? 0 : (double)(RssAfterKiB - RssBeforeKiB) / Reached;

    /// <summary>True for a peer that forks a process per session (socat, websockify): summed RSS counts every shared page
    /// once per process, so such a peer's memory is judged on PSS (shared pages split between their sharers).</summary>
    public bool Forks { get; init; }

    /// <summary>How the peer was started for this row, when it was started for it alone (null: the peer of the other
    /// workloads).</summary>
    public string? Start { get; init; }

    /// <summary>The fair memory growth: PSS for a forking peer, RSS otherwise.</summary>
    public double GrowthMiB => Forks ? PssGrowthMiB : RssGrowthMiB;

    /// <summary>The fair growth per session held, in KiB.</summary>
    public double PerSessionKiB => Reached == 0 ? 0 : GrowthMiB * 1024 / Reached;
}

/// <summary>A sync of N simulated VMs, and session set-up measured while it ran.</summary>
internal sealed record SyncResult(
    int Vms,
    bool Measured,
    string Status,
    double? SyncSeconds,
    long? TokensAfter,
    LatencyResult? SetupDuringSync,
    LatencyResult? SetupIdleBaseline)
{
    /// <summary>CPU seconds the node spent from the sync request to its answer.</summary>
    public double? RelayCpuSeconds { get; init; }

    /// <summary>CPU seconds the simulator spent meanwhile (on a real site the Abiquo API runs elsewhere).</summary>
    public double? SimulatorCpuSeconds { get; init; }

    /// <summary>The node's highest VmRSS during the sync, sampled every 200 ms.</summary>
    public double? PeakRssMiB { get; init; }

    /// <summary>The sync-1m workload's first sync of its VMs.</summary>
    public const string FirstSync = "first sync";

    /// <summary>The sync-1m workload's second sync, after 1 % of the VMs got a new console port.</summary>
    public const string Resync = "re-sync, 1 % changed";

    /// <summary>Which sync of a workload with several (<see cref="FirstSync"/>, <see cref="Resync"/>); null for the sync workload's.</summary>
    public string? Phase { get; init; }

    /// <summary>The sessions during the sync split by the part of it they started in (load, plan, apply, as the node
    /// reports them); null when the node did not report its parts.</summary>
    public IReadOnlyList<SyncPartLatency>? Parts { get; init; }

    /// <summary>RSS of the redis-server holding the tokens, after the sync (the sync-1m workload's node is Redis-backed).</summary>
    public double? StorageRssMiB { get; init; }

    /// <summary>The node's collections over its idle window; null when it did not answer a scrape.</summary>
    public NodeCollections? IdleCollections { get; init; }

    /// <summary>The node's collections from the sync request to its answer; null when it did not answer a scrape.</summary>
    public NodeCollections? DuringCollections { get; init; }

    /// <summary>VMs whose console the simulator changed before this sync (the sync-1m re-sync).</summary>
    public int? ChangedVms { get; init; }
}

/// <summary>A target of issue 6 and whether this run met it.</summary>
internal sealed record TargetVerdict(string Target, string Verdict, string Evidence);

/// <summary>Where the figures came from.</summary>
internal sealed record MachineInfo(
    int ProcessorCount,
    string CpuModel,
    long MemoryMiB,
    string Kernel,
    string DotnetRuntime,
    string WebsockifyVersion,
    string SocatVersion,
    string HaproxyVersion,
    string Note);

/// <summary>
/// kill -9 of a node of a Redis-backed cluster behind the shipped HAProxy config, under a light trickle of new sessions
/// (issue 17): how long from each kill until a session started after it opened through HAProxy.
/// </summary>
internal sealed record FailoverResult(
    int Nodes,
    int Kills,
    double[] RecoverySeconds,
    double P50Seconds,
    double MaxSeconds,
    int SessionsOpened,
    int SessionsFailed,
    string? FirstError,
    string? Error)
{
    /// <summary>Seconds from each kill until HAProxy reported the restarted node UP again (not measured against a target).</summary>
    public double[] BackUpSeconds { get; init; } = [];

    /// <summary>
    /// Seconds from each kill until every new session opened again (the first to open after the last to fail): the one
    /// client address of the trickle hashes to the dead node, and HAProxy answers it 503 until it marks that node DOWN.
    /// </summary>
    public double[] AllOpenSeconds { get; init; } = [];

    public double AllOpenP50Seconds { get; init; }

    public double AllOpenMaxSeconds { get; init; }

    /// <summary>Sessions started every this many milliseconds, whatever the earlier ones were doing.</summary>
    public double TrickleIntervalMs { get; init; }

    /// <summary>kill -9 of the node that carries a console page open in Chromium: how long until its canvas shows the desktop again.</summary>
    public ConsoleResumeResult? Console { get; init; }
}

/// <summary>A console page in Chromium whose node was killed with SIGKILL: seconds until the canvas showed the desktop again.</summary>
internal sealed record ConsoleResumeResult(double[] Seconds, double P50Seconds, double MaxSeconds, string? Error);

/// <summary>
/// One node of a cluster on simulated hosts loses its network link while a trickle of sessions runs on the others
/// (issue 17): how long until the others' membership declares it dead, and whether a live node was declared dead.
/// </summary>
internal sealed record SilentHostResult(
    int Nodes,
    int Cuts,
    double[] DeclaredDeadSeconds,
    double P50Seconds,
    double MaxSeconds,
    int FalseDeaths,
    string? FalseDeathDetail,
    int SessionsOpened,
    int SessionsFailed,
    string? FirstError,
    string? Error);

/// <summary>A recorded session of a desktop with a ticking clock (issue 14): the recording's size per minute, and the
/// bytes the client received over the same session.</summary>
internal sealed record RecordingDiskResult(
    double Seconds,
    int Files,
    long RecordingBytes,
    double RecordingBytesPerMinute,
    long WireBytes,
    double WireBytesPerMinute,
    string? Error);

/// <summary>
/// The sessions that started in one part of a sync: how many, their p99, and how many of them took longer than the whole
/// sync's p99 (<see cref="AboveSyncP99"/>), which says which part the row's slow sessions came from.
/// </summary>
internal sealed record SyncPartLatency(string Part, double? Seconds, int Sessions, double P99Ms, int AboveSyncP99);

/// <summary>
/// A node's garbage collections over one window of <see cref="Seconds"/>, from the runtime's counters at its start and end:
/// every collection pauses every thread of the node, so a session that meets one waits for it.
/// </summary>
internal sealed record NodeCollections(double Seconds, double PausedMs, int Gen0, int Gen1, int Gen2, double AllocatedMiB)
{
    public double PausedMsPerSecond => PerSecond(PausedMs);

    public double Gen0PerSecond => PerSecond(Gen0);

    public double Gen1PerSecond => PerSecond(Gen1);

    public double Gen2PerSecond => PerSecond(Gen2);

    public double AllocatedMiBPerSecond => PerSecond(AllocatedMiB);

    /// <summary>How long a collection paused the node on average: the window's pause over its collections.</summary>
    public double MeanPauseMs => Gen0 + Gen1 + Gen2 == 0 ? 0 : PausedMs / (Gen0 + Gen1 + Gen2);

    private double PerSecond(double value) => Seconds <= 0 ? 0 : value / Seconds;
}
