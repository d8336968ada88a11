using System.Diagnostics;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Reporting;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Session set-up as a user feels it: from the first SYN to the first byte of the VNC server's banner (TCP connect,
/// WebSocket handshake, token lookup, target connect, banner relayed). Each session then closes politely.
/// </summary>
internal static class SetupLatency
{
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    /// <param name="tokenFor">Token of session number i; warm-up sessions come first, so i runs past them.</param>
    /// <param name="peerCpuSeconds">Reads the peer's CPU seconds so far (its process tree, reaped children included),
    /// for the CPU each measured session cost it, opened and closed; null when the peer has no process of its own.</param>
    public static async Task<LatencyResult> RunAsync(string peer, string scenario, IBenchEndpoint endpoint, Func<int, string> tokenFor,
        int sessions, int concurrency, int warmupSessions, Func<double>? peerCpuSeconds = null)
    {
        if (warmupSessions > 0)
        {
            await MeasureAsync(_ => (endpoint, new Tally()), tokenFor, 0, warmupSessions, concurrency);
        }

        var tally = new Tally(TimesFolder());
        var cpuBefore = peerCpuSeconds?.Invoke();
        var clock = Stopwatch.StartNew();
        await MeasureAsync(_ => (endpoint, tally), tokenFor, warmupSessions, sessions, concurrency);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = peerCpuSeconds?.Invoke() - cpuBefore;
        tally.WriteTimes(peer, "setup");
        return Summarize(peer, scenario, sessions, concurrency, tally.Latencies, tally.Failed, tally.FirstError, seconds) with
        {
            PeerCpuUsPerSession = cpu is { } used && sessions > 0 ? used * 1e6 / sessions : null,
        };
    }

    /// <summary>Two peers measured in the same window: session i goes to <paramref name="a"/> when i is even, to
    /// <paramref name="b"/> when odd, so whatever foreign load comes during the window falls on both alike. For a
    /// comparison within a few per cent on a shared machine (issue 13 item 8), where the p99 of rounds run one after the
    /// other moved by 14-22 ms for the same peer. Each peer gets <paramref name="sessions"/>; sessions/s counts its own
    /// sessions over the shared window.</summary>
    public static async Task<(LatencyResult A, LatencyResult B)> RunPairedAsync((string Name, IBenchEndpoint Endpoint) a,
        (string Name, IBenchEndpoint Endpoint) b, string token, int sessions, int concurrency, int warmupSessions)
    {
        if (warmupSessions > 0)
        {
            var warm = new Tally();
            await MeasureAsync(i => (i % 2 == 0 ? a.Endpoint : b.Endpoint, warm), _ => token, 0, 2 * warmupSessions, concurrency);
        }

        var (tallyA, tallyB) = (new Tally(), new Tally());
        var clock = Stopwatch.StartNew();
        await MeasureAsync(i => i % 2 == 0 ? (a.Endpoint, tallyA) : (b.Endpoint, tallyB), _ => token, 0, 2 * sessions, concurrency);
        var seconds = clock.Elapsed.TotalSeconds;
        return (Summarize(a.Name, "setup, interleaved with " + b.Name, sessions, concurrency, tallyA.Latencies, tallyA.Failed, tallyA.FirstError, seconds),
            Summarize(b.Name, "setup, interleaved with " + a.Name, sessions, concurrency, tallyB.Latencies, tallyB.Failed, tallyB.FirstError, seconds));
    }

    /// <summary>Sessions for <paramref name="warmup"/>, opened as <paramref name="pace"/> says and not measured.</summary>
    public static async Task WarmAsync(IBenchEndpoint endpoint, Func<int, string> tokenFor, SessionPace pace, TimeSpan warmup)
    {
        using var warming = new CancellationTokenSource(warmup);
        await MeasureAsync(_ => (endpoint, new Tally()), tokenFor, 0, pace, warming.Token);
    }

    /// <summary>Runs sessions until <paramref name="until"/> is cancelled (the background load during a sync); each
    /// successful session's start and set-up time also go to <paramref name="timeline"/> when one is given.</summary>
    public static async Task<LatencyResult> RunUntilAsync(string peer, string scenario, IBenchEndpoint endpoint, Func<int, string> tokenFor,
        SessionPace pace, CancellationToken until, SessionTimeline? timeline = null)
    {
        var clock = Stopwatch.StartNew();
        var tally = new Tally(TimesFolder(), timeline);
        await MeasureAsync(_ => (endpoint, tally), tokenFor, 0, pace, until);
        tally.WriteTimes(peer, scenario);
        // An open loop has no concurrency of its own (how many run at once is the peer's doing): 0, and the run's
        // settings name its rate (BenchSettings.SyncPace).
        var concurrency = pace.PerSecond is null ? pace.Concurrency : 0;
        return Summarize(peer, scenario, tally.Latencies.Count + tally.Failed, concurrency, tally.Latencies, tally.Failed, tally.FirstError, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sessions from <paramref name="first"/> on, opened as <paramref name="pace"/> says, until <paramref name="until"/>.</summary>
    private static Task MeasureAsync(Func<int, (IBenchEndpoint Endpoint, Tally Tally)> route, Func<int, string> tokenFor, int first, SessionPace pace,
        CancellationToken until) =>
        pace.PerSecond is { } perSecond
            ? MeasureOnClockAsync(route, tokenFor, first, perSecond, until)
            : MeasureAsync(route, tokenFor, first, int.MaxValue, pace.Concurrency, until);

    /// <summary>
    /// An open loop: session n starts n / <paramref name="perSecond"/> s after the first, whether or not those before it
    /// have ended, so a peer with CPU to spare keeps it; at most <see cref="SessionPace.MaxInFlight"/> at once.
    /// </summary>
    private static async Task MeasureOnClockAsync(Func<int, (IBenchEndpoint Endpoint, Tally Tally)> route, Func<int, string> tokenFor, int first,
        int perSecond, CancellationToken until)
    {
        var running = new List<Task>();
        var clock = Stopwatch.StartNew();
        long started = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(until))
            {
                running.RemoveAll(task => task.IsCompleted);
                // The timer's ticks come late on a busy machine: every session due by now starts, none is dropped.
                for (var due = (long)(clock.Elapsed.TotalSeconds * perSecond); started < due; started++)
                {
                    var index = first + (int)started;
                    var (endpoint, tally) = route(index);
                    if (running.Count >= SessionPace.MaxInFlight)
                    {
                        tally.Add(0, $"over {SessionPace.MaxInFlight} sessions in flight at {perSecond} a second");
                        continue;
                    }

                    var token = tokenFor(index);
                    running.Add(Task.Run(async () =>
                    {
                        var (ms, error) = await OneSessionAsync(endpoint, token);
                        tally.Add(ms, error);
                    }, CancellationToken.None));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window is over; the sessions still in flight end within their own timeout and are counted.
        }

        await Task.WhenAll(running);
    }

    /// <summary>Sessions <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1, or until
    /// <paramref name="until"/>; <paramref name="route"/> says where session i goes and where its figure is counted.</summary>
    private static async Task MeasureAsync(Func<int, (IBenchEndpoint Endpoint, Tally Tally)> route, Func<int, string> tokenFor, int first, int count,
        int concurrency, CancellationToken until = default)
    {
        var next = first - 1;
        var last = count == int.MaxValue ? int.MaxValue : first + count - 1;
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while (!until.IsCancellationRequested && (index = Interlocked.Increment(ref next)) <= last)
            {
                var (endpoint, tally) = route(index);
                var (ms, error) = await OneSessionAsync(endpoint, tokenFor(index));
                tally.Add(ms, error);
            }
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(workers);
    }

    /// <summary>One session: milliseconds to the first banner byte, or why it failed.</summary>
    public static async Task<(double Ms, string? Error)> OneSessionAsync(IBenchEndpoint endpoint, string token)
    {
        using var deadline = new CancellationTokenSource(SessionTimeout);
        var start = Stopwatch.GetTimestamp();
        IBenchConnection? connection = null;
        try
        {
            connection = await endpoint.ConnectAsync(token, ConnectionProfile.Light, deadline.Token);
            var buffer = new byte[64];
            var read = await connection.ReceiveAsync(buffer, deadline.Token);
            if (read == 0)
            {
                connection.Abort();
                return (0, "closed before the banner");
            }

            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await connection.CloseAsync();
            return (ms, null);
        }
        catch (Exception exception)
        {
            connection?.Abort();
            return (0, deadline.IsCancellationRequested ? $"no banner within {SessionTimeout.TotalSeconds:F0} s" : exception.Message);
        }
    }

    public static LatencyResult Summarize(string peer, string scenario, int sessions, int concurrency, List<double> latencies,
        int failed, string? firstError, double seconds)
    {
        latencies.Sort();
        return new LatencyResult(peer, scenario, sessions, concurrency, latencies.Count, failed,
            Percentile.OfSorted(latencies, 0.50), Percentile.OfSorted(latencies, 0.90), Percentile.OfSorted(latencies, 0.99), latencies.Count == 0 ? 0 : latencies[^1],
            latencies.Count == 0 ? 0 : latencies.Average(), seconds > 0 ? latencies.Count / seconds : 0, firstError);
    }

    /// <summary>
    /// Names a folder where <see cref="RunAsync"/> and <see cref="RunUntilAsync"/> write each measured session's start (ms
    /// since the load began) and set-up time as CSV: a p99 says how bad, the time series says when, which is what ties
    /// slow sessions to a sync's phase or to a pause of the node (a runtime trace of the same seconds).
    /// </summary>
    public const string SessionTimesVariable = "BENCH_SESSION_TIMES";

    private static string? TimesFolder() => Environment.GetEnvironmentVariable(SessionTimesVariable) is { Length: > 0 } folder ? folder : null;

    /// <summary>What the workers measured, gathered under one lock.</summary>
    private sealed class Tally(string? timesFolder = null, SessionTimeline? timeline = null)
    {
        // Each session's start and set-up time, kept only when they are to be written out or split by the caller.
        private readonly SessionTimeline? _timeline = timeline ?? (timesFolder is null ? null : new SessionTimeline());

        public List<double> Latencies { get; } = [];

        public int Failed { get; private set; }

        public string? FirstError { get; private set; }

        public void Add(double ms, string? error)
        {
            lock (Latencies)
            {
                if (error is null)
                {
                    Latencies.Add(ms);
                    _timeline?.Add(ms);
                }
                else
                {
                    Failed++;
                    FirstError ??= error;
                }
            }
        }

        /// <summary>Writes the times to the folder <see cref="SessionTimesVariable"/> names, when it names one.</summary>
        public void WriteTimes(string peer, string scenario)
        {
            if (timesFolder is null || _timeline is null)
            {
                return;
            }

            Directory.CreateDirectory(timesFolder);
            var path = Path.Combine(timesFolder, $"{peer}-{scenario.Replace(' ', '-')}-{DateTime.UtcNow:HHmmss}.csv");
            File.WriteAllLines(path, _timeline.Sessions().OrderBy(t => t.StartMs).Select(t => FormattableString.Invariant($"{t.StartMs:F1},{t.Ms:F2}")).Prepend("start_ms,setup_ms").Prepend($"# began {_timeline.Began:O}"));
            Console.Error.WriteLine($"session times: {path}");
        }
    }
}
