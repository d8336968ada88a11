using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// A fresh node that syncs its tokens from an Abiquo simulator only when asked (<c>POST /api/sync</c>), with the admin
/// client that asks and reads the sync's status. Shared by the sync workloads (sync, sync-1m).
/// </summary>
internal sealed class SyncNode : IAsyncDisposable
{
    /// <summary>How often the node's resident memory is read during a measured sync.</summary>
    private static readonly TimeSpan RssSampleInterval = TimeSpan.FromMilliseconds(200);

    private readonly HttpClient _admin;

    private SyncNode(RelayPeer relay, HttpClient admin)
    {
        Relay = relay;
        _admin = admin;
    }

    public RelayPeer Relay { get; }

    /// <summary>Starts a node whose Abiquo source is the simulator at <paramref name="apiUrl"/>, with a token file of
    /// the bench's targets (the sessions measured during a sync use it, not the synced tokens).</summary>
    /// <param name="extraEnvironment">More settings of the node (a Redis connection string for a Redis-backed node).</param>
    public static async Task<SyncNode> StartAsync(BenchOptions options, TargetSet targets, string workDirectory, string logDirectory, string logName,
        string apiUrl, string passwordFile, IReadOnlyDictionary<string, string> extraEnvironment)
    {
        var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var adminTokenFile = Path.Combine(workDirectory, "admin-token");
        await File.WriteAllTextAsync(adminTokenFile, adminToken + "\n");
        var tokens = TokenFiles.Write(Path.Combine(workDirectory, "tokens-sync.cfg"), targets.Ports);
        // As shipped (its start-up rehearsal, which with an Abiquo source also rehearses a sync's load), then the rig's.
        var environment = BenchRunner.ShippedStart(options).Environment;
        environment["Abiquo__ApiUrl"] = apiUrl;
        environment["Abiquo__User"] = AbiquoSimulator.User;
        environment["Abiquo__PasswordFile"] = passwordFile;
        // Only the syncs the bench asks for: the measured one must not race a timer-driven one.
        environment["Abiquo__SyncInterval"] = "01:00:00";
        environment["Admin__TokenFile"] = adminTokenFile;
        foreach (var (key, value) in extraEnvironment)
        {
            environment[key] = value;
        }

        var relay = await RelayPeer.StartAsync(options.RelayPath, tokens, logDirectory, logName, environment);
        var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{relay.AdminPort.ToString(CultureInfo.InvariantCulture)}/"),
            // Each call below bounds its own wait; a POST /api/sync answers 504 after 2 minutes by itself.
            Timeout = TimeSpan.FromMinutes(3),
        };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        return new SyncNode(relay, admin);
    }

    /// <summary>Null when the node serves /api/sync, else why the sync cannot be measured.</summary>
    public async Task<string?> SyncUnavailableAsync()
    {
        using var probe = await _admin.GetAsync(new Uri("api/sync", UriKind.Relative));
        return probe.StatusCode == HttpStatusCode.NotFound
            ? "not yet available: the node does not serve /api/sync (the Abiquo sync is not wired into the node)"
            : null;
    }

    /// <summary>Waits for the sync the node runs at start-up; returns why it did not succeed, or null.</summary>
    public async Task<string?> WaitForFirstSyncAsync()
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            var (status, body) = await GetStatusAsync();
            last = $"{(int)status}: {Shorten(body)}";
            if (status == HttpStatusCode.OK && SyncStatus.Parse(body) is { LastSuccessAt: not null })
            {
                return null;
            }

            await Task.Delay(250);
        }

        return $"no successful sync within 90 s (last status {last})";
    }

    /// <summary>
    /// The node's idle set-up: sessions for <see cref="BenchOptions.SyncWarmup"/> unmeasured (a fresh node recompiles its
    /// hot code for its first 20 s or so of load), then measured over <see cref="BenchOptions.SyncIdleWindow"/>, with the
    /// node's collections over that window.
    /// </summary>
    public async Task<(LatencyResult Baseline, NodeCollections? Collections)> MeasureIdleAsync(BenchOptions options)
    {
        await SetupLatency.WarmAsync(Relay.Endpoint, _ => TargetNames.Banner, options.SyncPace, options.SyncWarmup);
        var (gcBefore, clock) = (await NodeMetrics.GcTotalsAsync(Relay), Stopwatch.StartNew());
        using var window = new CancellationTokenSource(options.SyncIdleWindow);
        var baseline = await SetupLatency.RunUntilAsync(Relay.Name, "idle baseline", Relay.Endpoint, _ => TargetNames.Banner, options.SyncPace, window.Token);
        return (baseline, Between(gcBefore, await NodeMetrics.GcTotalsAsync(Relay), clock.Elapsed.TotalSeconds));
    }

    /// <summary>The collections between two readings <paramref name="seconds"/> apart; null when either is missing.</summary>
    internal static NodeCollections? Between(GcTotals? before, GcTotals? after, double seconds) =>
        before is { } a && after is { } b
            ? new NodeCollections(seconds, (b.PausedSeconds - a.PausedSeconds) * 1000, (int)(b.Gen0 - a.Gen0), (int)(b.Gen1 - a.Gen1), (int)(b.Gen2 - a.Gen2),
                (b.AllocatedBytes - a.AllocatedBytes) / 1048576)
            : null;

    /// <summary>
    /// Asks for a sync while sessions keep opening as <paramref name="pace"/> says, and measures it: wall time, the
    /// sync's own duration and outcome, set-up latency, CPU of the node and the simulator, and the node's peak RSS
    /// (VmRSS sampled every 200 ms). A sync that outlasts the POST's 2 minutes (504) is followed through GET /api/sync
    /// until the grain reports a run that started after the request, for at most <paramref name="wait"/>.
    /// </summary>
    public async Task<SyncMeasurement> MeasureSyncAsync(AbiquoSimulator simulator, SessionPace pace, TimeSpan wait)
    {
        var before = await GetStatusAsync() is (HttpStatusCode.OK, var text) ? SyncStatus.Parse(text) : null;
        using var stop = new CancellationTokenSource();
        var timeline = new SessionTimeline();
        var load = SetupLatency.RunUntilAsync(Relay.Name, "during sync", Relay.Endpoint, _ => TargetNames.Banner, pace, stop.Token, timeline);
        var rss = SamplePeakRssAsync(Relay.Pid, stop.Token);
        var relayCpu = Relay.TreeCpuSeconds();
        var simulatorCpu = ProcFs.TreeCpuSeconds(simulator.Pid);
        var gcBefore = await NodeMetrics.GcTotalsAsync(Relay);
        var clock = Stopwatch.StartNew();
        var requestedAtMs = timeline.ElapsedMs;
        HttpStatusCode status;
        string body;
        NodeCollections? collections;
        try
        {
            (status, body) = await PostSyncAsync();
            if (status == HttpStatusCode.GatewayTimeout)
            {
                (status, body) = await WaitForRunAfterAsync(before?.Runs ?? 0, wait - clock.Elapsed);
            }

            collections = Between(gcBefore, await NodeMetrics.GcTotalsAsync(Relay), clock.Elapsed.TotalSeconds);
        }
        finally
        {
            // Also when the admin API fails: the sessions and the sampler would otherwise run on.
            await stop.CancelAsync();
        }

        var wall = clock.Elapsed.TotalSeconds;
        relayCpu = Relay.TreeCpuSeconds() - relayCpu;
        simulatorCpu = ProcFs.TreeCpuSeconds(simulator.Pid) - simulatorCpu;
        var during = await load;
        var peakRssMiB = await rss / 1024.0;
        var after = status == HttpStatusCode.OK ? SyncStatus.Parse(body) : null;
        var problem = status != HttpStatusCode.OK ? $"/api/sync answered {(int)status}: {Shorten(body)}"
            : after?.LastError is { } error ? $"sync error: {Shorten(error)}"
            : null;
        var seconds = status == HttpStatusCode.OK ? after?.DurationSeconds ?? wall : (double?)null;
        var parts = after?.Parts is { } reported ? SyncParts.Split(timeline.Sessions(), during.P99Ms, requestedAtMs, reported) : null;
        return new SyncMeasurement(problem, seconds, wall, after?.Tokens, during, relayCpu, simulatorCpu, peakRssMiB) { Parts = parts, Collections = collections };
    }

    public ValueTask DisposeAsync()
    {
        _admin.Dispose();
        return Relay.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostSyncAsync()
    {
        using var response = await _admin.PostAsync(new Uri("api/sync", UriKind.Relative), content: null);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, string Body)> GetStatusAsync()
    {
        using var response = await _admin.GetAsync(new Uri("api/sync", UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The status once the grain has finished a run beyond <paramref name="runsBefore"/>; a 504 when it has not
    /// within <paramref name="wait"/>.</summary>
    private async Task<(HttpStatusCode Status, string Body)> WaitForRunAfterAsync(long runsBefore, TimeSpan wait)
    {
        var deadline = Stopwatch.StartNew();
        var last = (Status: HttpStatusCode.GatewayTimeout, Body: "the sync did not finish in time");
        while (deadline.Elapsed < wait)
        {
            await Task.Delay(500);
            var (status, body) = await GetStatusAsync();
            if (status == HttpStatusCode.OK && SyncStatus.Parse(body) is { } now && now.Runs > runsBefore)
            {
                return (status, body);
            }

            last = (HttpStatusCode.GatewayTimeout, $"the sync did not finish within {wait.TotalSeconds:F0} s (last status {(int)status}: {Shorten(body)})");
        }

        return last;
    }

    /// <summary>The highest VmRSS of <paramref name="pid"/> in KiB, read until <paramref name="stop"/>. VmHWM would be
    /// simpler but covers the whole life of the process, not one sync of several.</summary>
    private static async Task<long> SamplePeakRssAsync(int pid, CancellationToken stop)
    {
        var peak = ProcFs.RssKiB(pid);
        using var timer = new PeriodicTimer(RssSampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                peak = Math.Max(peak, ProcFs.RssKiB(pid));
            }
        }
        catch (OperationCanceledException)
        {
            // The sync is over.
        }

        return Math.Max(peak, ProcFs.RssKiB(pid));
    }

    /// <summary>The load, plan and apply times a status body (GET /api/sync) reports; null when it reports none.</summary>
    internal static IReadOnlyList<(string Part, double Seconds)>? ReportedParts(string body) => SyncStatus.Parse(body)?.Parts;

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>The fields of the node's sync status (GET /api/sync) the bench reads.</summary>
    private sealed record SyncStatus(long Runs, string? LastSuccessAt, string? LastError, double? DurationSeconds, long? Tokens,
        IReadOnlyList<(string Part, double Seconds)>? Parts)
    {
        public static SyncStatus? Parse(string body)
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                long? Number(string name) => root.TryGetProperty(name, out var value) && value.TryGetInt64(out var n) ? n : null;
                var duration = Seconds(root, "lastDuration");
                return new SyncStatus(Number("runs") ?? 0, Text("lastSuccessAt"), Text("lastError"), duration, Number("tokens"), PartsOf(root));
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The first source's load, plan and apply (the bench's nodes have one source); null when not reported.</summary>
        private static IReadOnlyList<(string Part, double Seconds)>? PartsOf(JsonElement root)
        {
            if (!root.TryGetProperty("sources", out var sources) || sources.ValueKind != JsonValueKind.Array || sources.GetArrayLength() == 0)
            {
                return null;
            }

            var source = sources[0];
            return Seconds(source, "lastLoad") is { } load && Seconds(source, "lastPlan") is { } plan && Seconds(source, "lastApply") is { } apply
                ? [("load", load), ("plan", plan), ("apply", apply)]
                : null;
        }

        private static double? Seconds(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && TimeSpan.TryParse(value.GetString(), CultureInfo.InvariantCulture, out var span) ? span.TotalSeconds : null;
    }
}

/// <summary>One measured sync: null <see cref="Problem"/> when it succeeded; <see cref="Seconds"/> is the sync's own
/// duration as the node reports it, null when the node gave no status.</summary>
internal sealed record SyncMeasurement(
    string? Problem,
    double? Seconds,
    double WallSeconds,
    long? Tokens,
    LatencyResult During,
    double RelayCpuSeconds,
    double SimulatorCpuSeconds,
    double PeakRssMiB)
{
    /// <summary>The sessions split by the part of the sync they started in; null when the node did not report its parts.</summary>
    public IReadOnlyList<SyncPartLatency>? Parts { get; init; }

    /// <summary>The node's collections from the request to the answer; null when it did not answer a scrape.</summary>
    public NodeCollections? Collections { get; init; }

    /// <summary>One line of the run's log.</summary>
    public string Describe() => FormattableString.Invariant(
        $"{Seconds:F1} s (answered after {WallSeconds:F1} s), {Tokens:N0} tokens, node peak RSS {PeakRssMiB:F0} MiB, set-up p99 during {During.P99Ms:F2} ms over {During.Succeeded} sessions ({During.Failed} failed); CPU: node {RelayCpuSeconds:F1} s, simulator {SimulatorCpuSeconds:F1} s{DescribeCollections(Collections)}{DescribeParts()}{(Problem is null ? "" : $"; {Problem}")}");

    private string DescribeParts() => Parts is null ? ""
        : "; above that p99 by part: " + string.Join(", ", Parts.Select(p => FormattableString.Invariant($"{p.Part.Split(' ')[0]} {p.AboveSyncP99} of {p.Sessions}")));

    /// <summary>"; collections paused the node ..." for the run's log, or nothing when the node did not answer a scrape.</summary>
    internal static string DescribeCollections(NodeCollections? collections) => collections is not { } c ? ""
        : FormattableString.Invariant($"; collections paused the node {c.PausedMsPerSecond:F1} ms a second (gen0 {c.Gen0PerSecond:F1}, gen1 {c.Gen1PerSecond:F1}, gen2 {c.Gen2PerSecond:F1} a second, {c.AllocatedMiBPerSecond:F0} MiB allocated a second)");

    /// <summary>The report's row for this sync of <paramref name="vms"/> VMs against the idle set-up of its rig.</summary>
    public SyncResult ToResult(int vms, SyncRig rig, string? phase = null) =>
        new(vms, true, Problem ?? "measured", Seconds, Tokens, During, rig.Baseline)
        {
            IdleCollections = rig.IdleCollections,
            DuringCollections = Collections,
            RelayCpuSeconds = RelayCpuSeconds,
            SimulatorCpuSeconds = SimulatorCpuSeconds,
            PeakRssMiB = PeakRssMiB,
            Phase = phase,
            Parts = Parts,
        };
}
