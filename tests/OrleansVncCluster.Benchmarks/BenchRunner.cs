using System.Diagnostics;
using System.Globalization;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Benchmarks.Workloads;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks;

/// <summary>
/// One run: the same workloads against each peer in turn, one peer at a time so they never compete for the cores.
/// Every process it starts it stops again, by PID.
/// </summary>
internal sealed class BenchRunner(BenchOptions options)
{
    /// <summary>The label of the Redis-backed node, as operators run it.</summary>
    public const string RedisPeerName = "relay (redis)";

    private const string VncPassword = "bench-pw";

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    // One generator for the whole run: the order of every round follows from the seed alone.
    private readonly Random _order = new(options.Seed);
    private BenchResults _results = null!;
    private string _logs = "";
    private string _work = "";

    public async Task<BenchResults> RunAsync()
    {
        _logs = Path.GetFullPath(Path.Combine(options.OutputDirectory, "logs"));
        if (Directory.Exists(_logs))
        {
            Directory.Delete(_logs, recursive: true);
        }

        Directory.CreateDirectory(_logs);
        _work = Directory.CreateTempSubdirectory("vnc-bench-").FullName;
        _results = new BenchResults
        {
            Machine = Machine.Describe(),
            StartedUtc = DateTimeOffset.UtcNow,
            Settings = new BenchSettings
            {
                Quick = options.Quick,
                Rounds = options.Rounds,
                ThroughputSeconds = options.ThroughputDuration.TotalSeconds,
                WarmupSeconds = options.ThroughputWarmup.TotalSeconds,
                FrameBytes = TargetServer.ChunkBytes,
                EchoWindowFrames = options.EchoWindowFrames,
                ThroughputConnections = options.ThroughputConnections,
                SetupSessions = options.SetupSessions,
                SetupConcurrency = options.SetupConcurrency,
                SetupWarmupSessions = options.SetupWarmupSessions,
                IdleTiers = options.IdleTiers,
                TokenFileTokens = options.TokenFileTokens,
                SyncVms = options.SyncVms,
                SyncMillionVms = options.SyncMillionVms,
                SyncWarmupSeconds = options.SyncWarmup.TotalSeconds,
                SyncNodeStart = ShippedStart(options).Rehearsal,
                SyncIdleWindowSeconds = options.SyncIdleWindow.TotalSeconds,
                SyncPace = options.SyncPace.ToString(),
                SyncInventoryReadFirst = true,
                FailoverKills = options.FailoverKills,
                ConsoleKills = options.ConsoleKills,
                SilentHostCuts = options.SilentHostCuts,
                Peers = [.. BenchOptions.AllPeers.Where(options.Runs)],
                DescriptorLimit = DescriptorLimit(),
                Seed = options.Seed,
                Commit = GitCommit(),
                FullRun = options.IsFullRun,
                CommandLine = options.CommandLine,
            },
        };

        try
        {
            await using var idleHost = await BannerHost.StartAsync();
            await using var targets = new TargetSet { IdlePort = idleHost.Port };
            // The password-protected RFB targets of the login workload; their tokens are in every node's token file
            // (harmless to the other workloads), their passwords in the password file only for the "rfb-login-" ones.
            await using var rfbTargets = new TargetSet(VncPassword) { IdlePort = 0 };
            var rfbPorts = rfbTargets.Ports.Where(p => p.Key != TargetNames.Idle).ToList();
            var tokenPorts = new Dictionary<string, int>(targets.Ports);
            foreach (var (name, port) in rfbPorts)
            {
                tokenPorts[RfbEndpoint.TokenFor(RfbRelayPeer.PassThroughPrefix, name)] = port;
                tokenPorts[RfbEndpoint.TokenFor(RfbRelayPeer.LoginPrefix, name)] = port;
            }

            var tokens = TokenFiles.Write(Path.Combine(_work, "tokens.cfg"), tokenPorts);
            var passwords = TokenFiles.WritePasswords(Path.Combine(_work, "passwords.cfg"),
                rfbPorts.Select(p => RfbEndpoint.TokenFor(RfbRelayPeer.LoginPrefix, p.Key)), VncPassword);
            Log($"targets: echo {targets.Echo.Port}, sink {targets.Sink.Port}, source {targets.Source.Port}, banner {targets.Banner.Port}, idle {targets.IdlePort} (pid {idleHost.Pid}); " +
                $"RFB with VNC authentication: echo {rfbTargets.Echo.Port}, source {rfbTargets.Source.Port}, banner {rfbTargets.Banner.Port}; descriptor limit {_results.Settings.DescriptorLimit}; " +
                $"peer order seed {options.Seed}; commit {_results.Settings.Commit}");

            // The side-by-side peers only for the workloads that measure them: a failover or silent-host run alone
            // starts its own clusters and would only wait for these to start and stop.
            if (new[] { "throughput", "echo1k", "setup", "idle" }.Any(options.Measures))
            {
                await MeasureSideBySideAsync(targets, rfbTargets, tokens, passwords);
            }
            if (options.Measures("cold") && options.Runs("relay"))
            {
                await MeasureColdSetupAsync(targets, tokens, passwords, redis: false);
            }

            if (options.Measures("cold") && options.Runs("relay-redis"))
            {
                await MeasureColdSetupAsync(targets, tokens, passwords, redis: true);
            }

            if (options.Runs("relay") && options.Measures("idle"))
            {
                await MeasureRelayIdleAsync(targets, tokens);
            }

            if (options.Measures("tokens"))
            {
                await MeasureTokenLookupAsync(targets);
            }

            if (options.Measures("sync"))
            {
                var sync = new SyncWorkload(options, targets, _work, _logs, Log);
                _results.Sync.AddRange(await sync.RunAsync());
            }

            if (options.Measures("sync-1m"))
            {
                _results.SyncMillion.AddRange(await new SyncMillionWorkload(options, targets, _work, _logs, Log).RunAsync());
            }

            if (options.Measures("failover"))
            {
                _results.Failover = await new FailoverWorkload(options, tokens, _work, _logs, Log).RunAsync();
            }

            if (options.Measures("recording-disk"))
            {
                _results.RecordingDisk = await new RecordingDiskWorkload(options, _work, _logs, Log).RunAsync(RecordingEnvironment);
            }

            if (options.Measures("silent-host"))
            {
                _results.SilentHost = await new SilentHostWorkload(options, _work, _logs, Log).RunAsync();
            }
        }
        finally
        {
            Directory.Delete(_work, recursive: true);
        }

        _results.DurationSeconds = _clock.Elapsed.TotalSeconds;
        _results.Targets.AddRange(TargetEvaluation.Evaluate(_results));
        return _results;
    }

    /// <summary>All peers up at once, each workload run round by round with the peers interleaved.</summary>
    private async Task MeasureSideBySideAsync(TargetSet targets, TargetSet rfbTargets, string tokens, string passwords)
    {
        var peers = new List<Peer>();
        RedisServer? redis = null;
        RelayPeer? recorded = null;
        try
        {
            if (options.Runs("relay") || options.Runs("haproxy") || options.Runs("relay-login"))
            {
                // With an agent when HAProxy fronts it: the shipped config asks every server's agent.
                var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, "relay", options.RelayEnvironment, passwordFile: passwords,
                    agent: options.Runs("haproxy"));
                Log($"relay: pid {relay.Pid}, ws://127.0.0.1:{relay.Port}, admin {relay.AdminPort}");
                peers.Add(relay);
                if (options.Runs("haproxy"))
                {
                    peers.Add(await HaproxyPeer.StartAsync(relay, options.HaproxyConfig, _logs));
                }

                if (options.Runs("relay-login"))
                {
                    // The same node: the two differ only in whether it knows the password.
                    peers.Add(new RfbRelayPeer(relay, RfbRelayPeer.PassThroughName, rfbTargets, RfbRelayPeer.PassThroughPrefix, VncPassword));
                    peers.Add(new RfbRelayPeer(relay, RfbRelayPeer.LoginName, rfbTargets, RfbRelayPeer.LoginPrefix, VncPassword));
                }
            }

            if (options.Runs("relay-recorded"))
            {
                recorded = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, "relay-recorded", RecordingEnvironment(Path.Combine(_work, "recordings")),
                    name: "relay-recorded", passwordFile: passwords);
                Log($"relay (recorded): pid {recorded.Pid}, ws://127.0.0.1:{recorded.Port}, recording every session into {_work}/recordings");
                peers.Add(new RfbRelayPeer(recorded, RfbRelayPeer.RecordedName, rfbTargets, RfbRelayPeer.LoginPrefix, VncPassword));
            }

            if (options.Runs("relay-redis"))
            {
                redis = await RedisServer.StartAsync(_logs);
                var environment = new Dictionary<string, string>(options.RelayEnvironment) { ["Redis__ConnectionString"] = redis.ConnectionString };
                var node = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, "relay-redis", environment, name: RedisPeerName, passwordFile: passwords);
                Log($"relay (redis): pid {node.Pid}, ws://127.0.0.1:{node.Port}, redis-server pid {redis.Process.Pid} on {redis.ConnectionString}");
                peers.Add(node);
            }

            if (options.BaselineRelayPath is { } baselinePath)
            {
                var baseline = await RelayPeer.StartAsync(baselinePath, tokens, _logs, "relay-baseline", options.RelayEnvironment, name: "relay-baseline");
                Log($"relay-baseline ({baselinePath}): pid {baseline.Pid}, ws://127.0.0.1:{baseline.Port}");
                peers.Add(baseline);
            }

            if (options.Runs("websockify"))
            {
                peers.Add(await WebsockifyPeer.StartAsync(tokens, _logs));
            }

            if (options.Runs("socat"))
            {
                peers.Add(await SocatPeer.StartAsync(targets, _logs));
            }

            if (options.Runs("direct"))
            {
                peers.Add(new DirectPeer(targets));
            }

            if (options.Runs("haproxy-tcp"))
            {
                peers.Add(await HaproxyTcpPeer.StartAsync(targets, _logs));
            }

            // The relay only serves its sessions through HAProxy if asked for HAProxy alone.
            var measured = peers.Where(p => p is not RelayPeer { Name: "relay" } || options.Runs("relay")).ToList();
            if (options.Measures("throughput") || options.Measures("echo1k"))
            {
                await MeasureThroughputAsync(measured, targets);
            }

            if (options.Measures("setup"))
            {
                await MeasureSetupAsync(measured, targets);
            }

            if (options.Measures("idle"))
            {
                // The relay's own idle tiers run on fresh nodes afterwards; here the peers that fork or sit in front.
                foreach (var peer in measured.Where(p => p is SocatPeer or WebsockifyPeer or HaproxyPeer))
                {
                    await MeasureIdleAsync(peer, options.IdleTiers[0]);
                }
            }
        }
        finally
        {
            // HAProxy before the relay behind it; Redis after the node on it.
            foreach (var peer in Enumerable.Reverse(peers))
            {
                await peer.DisposeAsync();
            }

            if (recorded is not null)
            {
                await recorded.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
        }
    }

    /// <summary>A node that records every session into <paramref name="directory"/> (keyframes every 10 s, the default).</summary>
    private Dictionary<string, string> RecordingEnvironment(string directory) => new(options.RelayEnvironment)
    {
        ["Recording__Mode"] = "on",
        ["Recording__Directory"] = directory,
    };

    /// <summary>The targets a peer's sessions reach: the password-protected RFB ones for the login views.</summary>
    private static TargetSet TargetsOf(Peer peer, TargetSet targets) => peer is RfbRelayPeer rfb ? rfb.Targets : targets;

    /// <summary>A fresh order of <paramref name="peers"/> for each round: a fixed order would give one peer every burst of
    /// foreign load that tends to come at the same point of a round (and every after-effect of the peer before it).</summary>
    private List<Peer> Shuffled(List<Peer> peers)
    {
        var order = peers.ToArray();
        _order.Shuffle(order);
        return [.. order];
    }

    /// <summary>The other half of the item-8 pair ("relay (rfb)" and "relay (login)") when both are measured: they are
    /// measured together, so that they compare within a few per cent.</summary>
    private static Peer? LoginPartnerOf(Peer peer, List<Peer> measured) => peer.Name switch
    {
        RfbRelayPeer.PassThroughName => measured.FirstOrDefault(p => p.Name == RfbRelayPeer.LoginName),
        RfbRelayPeer.LoginName => measured.FirstOrDefault(p => p.Name == RfbRelayPeer.PassThroughName),
        _ => null,
    };

    /// <summary>The modes a peer is measured in: the RFB views only where item 8 asks (echo and download: the
    /// server-to-browser direction must stay pass-through).</summary>
    private static bool Measures(Peer peer, string mode) => peer switch
    {
        // A recorded session reads the server's messages, so only the RFB source's FramebufferUpdates make sense to it
        // (the echo target sends back what the client wrote, which is no server message).
        RfbRelayPeer { Name: RfbRelayPeer.RecordedName } => mode is Throughput.Download,
        RfbRelayPeer => mode is Throughput.Echo or Throughput.Download,
        HaproxyTcpPeer => false,
        _ => true,
    };

    private async Task MeasureThroughputAsync(List<Peer> peers, TargetSet targets)
    {
        string[] modes =
        [
            .. options.Measures("throughput") ? new[] { Throughput.Echo, Throughput.Upload, Throughput.Download } : [],
            .. options.Measures("echo1k") ? new[] { Throughput.EchoSmall } : [],
        ];

        // Unrecorded warm-up of every path: a node measured seconds after start runs tier-0 JIT code, and the
        // first round would measure the JIT, not the relay (1-second runs on a fresh node came out 2-3x slower).
        foreach (var peer in peers)
        {
            foreach (var connections in options.ThroughputConnections)
            {
                foreach (var mode in modes.Where(mode => Measures(peer, mode)))
                {
                    await Throughput.RunAsync(peer, TargetsOf(peer, targets), mode, connections, TimeSpan.Zero, options.ThroughputWarmup * 2, options.EchoWindowFrames);
                }
            }
        }

        Log("throughput: warm-up done");
        foreach (var connections in options.ThroughputConnections)
        {
            foreach (var mode in modes)
            {
                var measured = peers.Where(peer => Measures(peer, mode)).ToList();
                var rounds = measured.ToDictionary(p => p.Name, _ => new List<ThroughputResult>());
                Task<ThroughputResult> RunAsync(Peer peer) => Throughput.RunAsync(peer, TargetsOf(peer, targets), mode, connections,
                    options.ThroughputWarmup, options.ThroughputDuration, options.EchoWindowFrames);
                for (var round = 0; round < options.Rounds; round++)
                {
                    var done = new HashSet<string>();
                    foreach (var peer in Shuffled(measured).Where(peer => done.Add(peer.Name)))
                    {
                        if (LoginPartnerOf(peer, measured) is { } partner && done.Add(partner.Name))
                        {
                            // The item-8 pair back to back as A B B A, each figure the sum of its two windows: a drift of
                            // the machine's foreign load during the four windows falls on both alike, which a 5 % margin
                            // needs (single rounds of one peer moved by 10 % and more).
                            var (a1, b1, b2, a2) = (await RunAsync(peer), await RunAsync(partner), await RunAsync(partner), await RunAsync(peer));
                            rounds[peer.Name].Add(ThroughputResult.Combine(a1, a2));
                            rounds[partner.Name].Add(ThroughputResult.Combine(b1, b2));
                            partner.ThrowIfExited();
                        }
                        else
                        {
                            rounds[peer.Name].Add(await RunAsync(peer));
                        }

                        peer.ThrowIfExited();
                    }
                }

                foreach (var peer in measured)
                {
                    var result = ThroughputResult.Median(rounds[peer.Name]);
                    _results.Throughput.Add(result);
                    Log($"{peer.Name}: {mode} x{connections}: {result.MiBPerSecond:F1} MiB/s (rounds {Join(result.RoundMiBPerSecond, "F0")}), peer CPU {result.PeerCpuPercent:F0} % = {result.PeerCpuSecondsPerGiB:F2} CPU s/GiB{Failure(result.Failures, result.Error)}");
                }
            }
        }
    }

    private async Task MeasureSetupAsync(List<Peer> peers, TargetSet targets)
    {
        var rounds = peers.ToDictionary(p => p.Name, _ => new List<LatencyResult>());
        for (var round = 0; round < options.Rounds; round++)
        {
            var done = new HashSet<string>();
            foreach (var peer in Shuffled(peers).Where(peer => done.Add(peer.Name)))
            {
                if (LoginPartnerOf(peer, peers) is { } partner && done.Add(partner.Name))
                {
                    // The item-8 pair in one window, their sessions interleaved (SetupLatency.RunPairedAsync).
                    var (a, b) = await SetupLatency.RunPairedAsync((peer.Name, peer.Endpoint), (partner.Name, partner.Endpoint), TargetNames.Banner,
                        options.SetupSessions, options.SetupConcurrency, options.SetupWarmupSessions);
                    rounds[peer.Name].Add(a);
                    rounds[partner.Name].Add(b);
                    partner.ThrowIfExited();
                }
                else
                {
                    rounds[peer.Name].Add(await SetupLatency.RunAsync(peer.Name, "setup", peer.Endpoint, _ => TargetNames.Banner, options.SetupSessions,
                        options.SetupConcurrency, options.SetupWarmupSessions, peer.Processes.Count > 0 ? peer.TreeCpuSeconds : null));
                }

                await Throughput.WaitForTargetsToEmptyAsync(TargetsOf(peer, targets));
                peer.ThrowIfExited();
            }
        }

        foreach (var peer in peers)
        {
            var result = LatencyResult.Median(rounds[peer.Name]);
            _results.Setup.Add(result);
            Log($"{peer.Name}: set-up {Describe(result)} (p99 of rounds {Join(result.RoundP99Ms, "F2")})");
        }
    }

    /// <summary>
    /// The first sessions of a node that has just started (its health check answers), with no warm-up: what users meet
    /// after a deploy or a restart, while the node still runs tier-0 JIT code and activates its first grains.
    /// </summary>
    /// <param name="redis">On a fresh redis-server of its own (peer "relay (redis)" as it starts), else embedded.</param>
    private async Task MeasureColdSetupAsync(TargetSet targets, string tokens, string passwords, bool redis)
    {
        await using var server = redis ? await RedisServer.StartAsync(_logs) : null;
        var (environment, rehearsal) = ShippedStart();
        if (server is not null)
        {
            environment["Redis__ConnectionString"] = server.ConnectionString;
        }

        var starting = Stopwatch.StartNew();
        await using var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, redis ? "relay-redis-cold" : "relay-cold", environment,
            name: redis ? ColdName(RedisPeerName) : ColdName("relay"), passwordFile: passwords);
        var startSeconds = starting.Elapsed.TotalSeconds;
        // The peer waited for /readyz, which now waits for the token file (before, /healthz answered a second ahead of it
        // and the first 200 sessions were refused with 4404): one probe session checks that, and the report says how
        // many it took, so the measured sessions meet a cold node rather than a node that cannot know their token yet.
        var ready = Stopwatch.StartNew();
        var probes = 0;
        string? error = "not tried";
        while (error is not null && ready.Elapsed < TimeSpan.FromSeconds(60))
        {
            probes++;
            (_, error) = await SetupLatency.OneSessionAsync(relay.Endpoint, TargetNames.Idle);
            if (error is not null)
            {
                await Task.Delay(20);
            }
        }

        if (error is not null)
        {
            throw new TimeoutException($"{relay.Name} opened no session within 60 s of its readiness (last: {error})");
        }

        var readySeconds = ready.Elapsed.TotalSeconds;
        Log($"{relay.Name}: pid {relay.Pid}, first session opened {readySeconds:F2} s after /readyz ({probes} probes); {options.ColdSessions:N0} sessions now");
        // What the sessions still found to compile: the start-up rehearsal's blind spots show here first. The first
        // scrape only compiles the exporter's own code.
        _ = await NodeMetrics.JitTotalsAsync(relay);
        var jitBefore = await NodeMetrics.JitTotalsAsync(relay);
        var result = await SetupLatency.RunAsync(relay.Name, Invariant($"first {options.ColdSessions:N0} sessions; {rehearsal}; /readyz answered {startSeconds:F1} s after the start; the node opened its first session {readySeconds:F2} s after that ({probes} probes)"),
            relay.Endpoint, _ => TargetNames.Banner, options.ColdSessions, options.SetupConcurrency, 0, relay.TreeCpuSeconds);
        if (jitBefore is { } before && await NodeMetrics.JitTotalsAsync(relay) is { } after)
        {
            result = result with { Scenario = result.Scenario + "; " + before.During(after) };
        }

        _results.ColdSetup.Add(result);
        Log($"{relay.Name}: set-up {Describe(result)}");
        await Throughput.WaitForTargetsToEmptyAsync(targets);
    }

    private async Task MeasureRelayIdleAsync(TargetSet targets, string tokens)
    {
        // Each tier on a fresh node: a heap grown by earlier workloads would hide what the sessions themselves cost. The
        // node starts as shipped: without its rehearsal, the runtime's recompilation of the session path (its working
        // memory and the new code, about 10 MiB once) would happen during the first burst of sessions and be charged to
        // them, a cost a node pays once, at its start.
        var (environment, rehearsal) = ShippedStart();
        foreach (var tier in options.IdleTiers)
        {
            await using var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, $"relay-idle-{tier}", environment);
            Log($"relay for {tier:N0} idle sessions: pid {relay.Pid}, {rehearsal}");
            await SetupLatency.RunAsync(relay.Name, "warm-up", relay.Endpoint, _ => TargetNames.Banner, options.SetupWarmupSessions * 2,
                options.SetupConcurrency, 0);
            await Throughput.WaitForTargetsToEmptyAsync(targets);
            await MeasureIdleAsync(relay, tier, start: $"a fresh node for the tier, {rehearsal}, then {options.SetupWarmupSessions * 2:N0} warm-up sessions");
        }
    }

    /// <summary>A node's environment as shipped (its start-up rehearsal, from the env example), then what the command line
    /// overrides; and the words that say which rehearsal it ran.</summary>
    private (Dictionary<string, string> Environment, string Rehearsal) ShippedStart() => ShippedStart(options);

    /// <summary>As <see cref="ShippedStart()"/>, for a workload that starts its own nodes (the sync rigs).</summary>
    internal static (Dictionary<string, string> Environment, string Rehearsal) ShippedStart(BenchOptions options)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ShippedEnvironment.Read(".").TryGetValue(ShippedRehearsal, out var shipped))
        {
            environment[ShippedRehearsal] = shipped; // The bench runs from the repository's root.
        }

        foreach (var (name, value) in options.RelayEnvironment)
        {
            environment[name] = value;
        }

        var rehearsal = Invariant($"{ShippedRehearsal}={environment.GetValueOrDefault(ShippedRehearsal, "(none)")} ") +
            (options.RelayEnvironment.ContainsKey(ShippedRehearsal) ? "from the command line" : "as shipped in " + ShippedEnvironment.RelativePath);
        return (environment, rehearsal);
    }

    private async Task MeasureIdleAsync(Peer peer, int tier, string? start = null)
    {
        var descriptors = peer.TreeFdCount();
        var budget = TimeSpan.FromSeconds(tier <= 1000 ? 60 : 180);
        var capacity = peer.SessionCapacity(_results.Settings.DescriptorLimit);
        var result = await IdleSessions.RunAsync(peer, tier, capacity, budget, options.IdleHold) with { Start = start };
        _results.Idle.Add(result);
        Log($"{peer.Name}: idle {result.Reached}/{tier} in {result.OpenSeconds:F1} s ({result.StopReason}), RSS +{result.RssGrowthMiB:F1} MiB " +
            $"({result.RssPerSessionKiB:F1} KiB/session), PSS +{result.PssGrowthMiB:F1} MiB, {result.ProcessesAfter} processes{(result.FirstError is null ? "" : $"; first error: {result.FirstError}")}");
        await IdleSessions.WaitForPeerToSettleAsync(peer, descriptors, TimeSpan.FromSeconds(60));
    }

    private async Task MeasureTokenLookupAsync(TargetSet targets)
    {
        var file = TokenFiles.Write(Path.Combine(_work, "tokens-large.cfg"), targets.Ports, options.TokenFileTokens);
        var sessions = options.SetupSessions;
        var warmup = options.SetupWarmupSessions;
        if (warmup + sessions > options.TokenFileTokens)
        {
            throw new InvalidOperationException("the large token file must hold a fresh token for every session of the miss run");
        }

        if (options.Runs("websockify"))
        {
            await using var websockify = await WebsockifyPeer.StartAsync(file, _logs, "websockify-tokens");
            await MeasureLookupsAsync(websockify, targets);
        }

        if (options.Runs("relay"))
        {
            await using var relay = await RelayPeer.StartAsync(options.RelayPath, file, _logs, "relay-tokens", options.RelayEnvironment);
            await WaitForTokenAsync(relay, TokenFiles.ProbeToken);
            await MeasureLookupsAsync(relay, targets);
        }
    }

    private async Task MeasureLookupsAsync(Peer peer, TargetSet targets)
    {
        var tokens = options.TokenFileTokens;
        var hit = await SetupLatency.RunAsync(peer.Name, $"repeated token ({tokens:N0}-token file)", peer.Endpoint, _ => TargetNames.Banner,
            options.SetupSessions, options.SetupConcurrency, options.SetupWarmupSessions);
        _results.TokenLookup.Add(hit);
        Log($"{peer.Name}: token hit {Describe(hit)}");
        await Throughput.WaitForTargetsToEmptyAsync(targets);

        // Warm-up sessions use the first fresh tokens, measured sessions the ones after: none was looked up before.
        var miss = await SetupLatency.RunAsync(peer.Name, $"fresh token each session ({tokens:N0}-token file)", peer.Endpoint, TokenFiles.Fresh,
            options.SetupSessions, options.SetupConcurrency, options.SetupWarmupSessions);
        _results.TokenLookup.Add(miss);
        Log($"{peer.Name}: token miss {Describe(miss)}");
        await Throughput.WaitForTargetsToEmptyAsync(targets);
    }

    /// <summary>Waits until the node resolves <paramref name="token"/>: it has loaded its token file.</summary>
    private static async Task WaitForTokenAsync(Peer peer, string token)
    {
        var deadline = Stopwatch.StartNew();
        string? error = "not tried";
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            (_, error) = await SetupLatency.OneSessionAsync(peer.Endpoint, token);
            if (error is null)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{peer.Name} did not resolve token {token} within 120 s (last: {error}): the token file was not loaded");
    }

    private static string Describe(Reporting.LatencyResult result) =>
        $"p50 {result.P50Ms:F2} ms, p90 {result.P90Ms:F2} ms, p99 {result.P99Ms:F2} ms, {result.SessionsPerSecond:F0} sessions/s{Failure(result.Failed, result.FirstError)}";

    private static string Join(double[] values, string format) =>
        string.Join("/", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static string Failure(int failures, string? error) => failures == 0 ? "" : $", {failures} failed (first: {error})";

    private void Log(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed:mm\\:ss}] {message}"));

    /// <summary>The commit this run measured, so a result can be traced to its code; "-dirty" when files differ from it.</summary>
    private static string GitCommit()
    {
        static string? Git(params string[] arguments)
        {
            try
            {
                using var git = Process.Start(new ProcessStartInfo("git", arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
                if (git is null)
                {
                    return null;
                }

                var output = git.StandardOutput.ReadToEnd();
                git.WaitForExit();
                return git.ExitCode == 0 ? output.Trim() : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }

        if (Git("rev-parse", "HEAD") is not { Length: > 0 } head)
        {
            return "unknown";
        }

        return Git("status", "--porcelain", "--untracked-files=no") is { Length: > 0 } ? head + "-dirty" : head;
    }

    private const string ShippedRehearsal = "Relay__StartupRehearsal";

    /// <summary>The label of a cold node of the peer named <paramref name="warm"/> ("relay (cold)", "relay (redis) (cold)").</summary>
    public static string ColdName(string warm) => warm + " (cold)";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static int DescriptorLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return int.TryParse(fields[3], CultureInfo.InvariantCulture, out var soft) ? soft : 0;
            }
        }

        return 0;
    }
}
