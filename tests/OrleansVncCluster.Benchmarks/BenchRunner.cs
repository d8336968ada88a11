using System.Diagnostics;
using System.Globalization;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Benchmarks.Workloads;

namespace OrleansVncCluster.Benchmarks;

/// <summary>
/// One run: the same workloads against each peer in turn, one peer at a time so they never compete for the cores.
/// Every process it starts it stops again, by PID.
/// </summary>
internal sealed class BenchRunner(BenchOptions options)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
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
                Peers = [.. BenchOptions.AllPeers.Where(options.Runs)],
                DescriptorLimit = DescriptorLimit(),
            },
        };

        try
        {
            await using var idleHost = await BannerHost.StartAsync();
            await using var targets = new TargetSet { IdlePort = idleHost.Port };
            var tokens = TokenFiles.Write(Path.Combine(_work, "tokens.cfg"), targets.Ports);
            Log($"targets: echo {targets.Echo.Port}, sink {targets.Sink.Port}, source {targets.Source.Port}, banner {targets.Banner.Port}, idle {targets.IdlePort} (pid {idleHost.Pid}); descriptor limit {_results.Settings.DescriptorLimit}");

            if (options.Runs("direct"))
            {
                await using var direct = new DirectPeer(targets);
                await MeasureAsync(direct, targets, idleTiers: []);
            }

            if (options.Runs("socat"))
            {
                await using var socat = await SocatPeer.StartAsync(targets, _logs);
                await MeasureAsync(socat, targets, idleTiers: [options.IdleTiers[0]]);
            }

            if (options.Runs("websockify"))
            {
                await using var websockify = await WebsockifyPeer.StartAsync(tokens, _logs);
                await MeasureAsync(websockify, targets, idleTiers: [options.IdleTiers[0]]);
            }

            if (options.Runs("relay") || options.Runs("haproxy"))
            {
                await MeasureRelayAsync(targets, tokens);
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
        }
        finally
        {
            Directory.Delete(_work, recursive: true);
        }

        _results.DurationSeconds = _clock.Elapsed.TotalSeconds;
        _results.Targets.AddRange(TargetEvaluation.Evaluate(_results));
        return _results;
    }

    private async Task MeasureRelayAsync(TargetSet targets, string tokens)
    {
        await using (var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, "relay"))
        {
            Log($"relay: pid {relay.Pid}, ws://127.0.0.1:{relay.Port}, admin {relay.AdminPort}");
            if (options.Runs("relay"))
            {
                await MeasureAsync(relay, targets, idleTiers: []);
            }

            if (options.Runs("haproxy"))
            {
                await using var haproxy = await HaproxyPeer.StartAsync(relay, _logs);
                await MeasureAsync(haproxy, targets, idleTiers: [options.IdleTiers[0]]);
            }
        }

        if (!options.Runs("relay") || !options.Measures("idle"))
        {
            return;
        }

        // Each tier on a fresh node: a heap grown by earlier workloads would hide what the sessions themselves cost.
        foreach (var tier in options.IdleTiers)
        {
            await using var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, _logs, $"relay-idle-{tier}");
            await SetupLatency.RunAsync(relay.Name, "warm-up", relay.Endpoint, _ => TargetNames.Banner, options.SetupWarmupSessions * 2,
                options.SetupConcurrency, 0);
            await Throughput.WaitForTargetsToEmptyAsync(targets);
            await MeasureIdleAsync(relay, tier);
        }
    }

    private async Task MeasureAsync(Peer peer, TargetSet targets, int[] idleTiers)
    {
        if (options.Measures("throughput"))
        {
            foreach (var connections in options.ThroughputConnections)
            {
                foreach (var mode in new[] { Throughput.Echo, Throughput.Upload, Throughput.Download })
                {
                    var result = await Throughput.RunAsync(peer, targets, mode, connections, options.ThroughputWarmup,
                        options.ThroughputDuration, options.EchoWindowFrames);
                    _results.Throughput.Add(result);
                    Log($"{peer.Name}: {mode} x{connections}: {result.MiBPerSecond:F1} MiB/s, peer CPU {result.PeerCpuPercent:F0} %{Failure(result.Failures, result.Error)}");
                    peer.ThrowIfExited();
                }
            }
        }

        if (options.Measures("setup"))
        {
            var result = await SetupLatency.RunAsync(peer.Name, "setup", peer.Endpoint, _ => TargetNames.Banner, options.SetupSessions,
                options.SetupConcurrency, options.SetupWarmupSessions);
            _results.Setup.Add(result);
            Log($"{peer.Name}: set-up {Describe(result)}");
            await Throughput.WaitForTargetsToEmptyAsync(targets);
            peer.ThrowIfExited();
        }

        if (options.Measures("idle"))
        {
            foreach (var tier in idleTiers)
            {
                await MeasureIdleAsync(peer, tier);
            }
        }
    }

    private async Task MeasureIdleAsync(Peer peer, int tier)
    {
        var descriptors = peer.TreeFdCount();
        var budget = TimeSpan.FromSeconds(tier <= 1000 ? 60 : 180);
        var result = await IdleSessions.RunAsync(peer, tier, budget);
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
            await using var relay = await RelayPeer.StartAsync(options.RelayPath, file, _logs, "relay-tokens");
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

    private static string Failure(int failures, string? error) => failures == 0 ? "" : $", {failures} failed (first: {error})";

    private void Log(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed:mm\\:ss}] {message}"));

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
