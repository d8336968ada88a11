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
    public static async Task<LatencyResult> RunAsync(string peer, string scenario, IBenchEndpoint endpoint, Func<int, string> tokenFor,
        int sessions, int concurrency, int warmupSessions)
    {
        if (warmupSessions > 0)
        {
            await MeasureAsync(endpoint, tokenFor, 0, warmupSessions, concurrency);
        }

        var clock = Stopwatch.StartNew();
        var tally = await MeasureAsync(endpoint, tokenFor, warmupSessions, sessions, concurrency);
        return Summarize(peer, scenario, sessions, concurrency, tally.Latencies, tally.Failed, tally.FirstError, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Runs sessions until <paramref name="until"/> is cancelled (the background load during a sync).</summary>
    public static async Task<LatencyResult> RunUntilAsync(string peer, string scenario, IBenchEndpoint endpoint, Func<int, string> tokenFor,
        int concurrency, CancellationToken until)
    {
        var clock = Stopwatch.StartNew();
        var tally = await MeasureAsync(endpoint, tokenFor, 0, int.MaxValue, concurrency, until);
        return Summarize(peer, scenario, tally.Latencies.Count + tally.Failed, concurrency, tally.Latencies, tally.Failed, tally.FirstError, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sessions <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> - 1, or until <paramref name="until"/>.</summary>
    private static async Task<Tally> MeasureAsync(IBenchEndpoint endpoint, Func<int, string> tokenFor, int first, int count, int concurrency,
        CancellationToken until = default)
    {
        var tally = new Tally();
        var next = first - 1;
        var last = count == int.MaxValue ? int.MaxValue : first + count - 1;
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while (!until.IsCancellationRequested && (index = Interlocked.Increment(ref next)) <= last)
            {
                var (ms, error) = await OneSessionAsync(endpoint, tokenFor(index));
                tally.Add(ms, error);
            }
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(workers);
        return tally;
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
        double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Max(0, (int)Math.Ceiling(p * latencies.Count) - 1)];
        return new LatencyResult(peer, scenario, sessions, concurrency, latencies.Count, failed,
            Percentile(0.50), Percentile(0.90), Percentile(0.99), latencies.Count == 0 ? 0 : latencies[^1],
            latencies.Count == 0 ? 0 : latencies.Average(), seconds > 0 ? latencies.Count / seconds : 0, firstError);
    }

    /// <summary>What the workers measured, gathered under one lock.</summary>
    private sealed class Tally
    {
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
                }
                else
                {
                    Failed++;
                    FirstError ??= error;
                }
            }
        }
    }
}
