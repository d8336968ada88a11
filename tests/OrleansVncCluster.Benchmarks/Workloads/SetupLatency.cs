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
        var (latencies, failed, firstError) = await MeasureAsync(endpoint, tokenFor, warmupSessions, sessions, concurrency);
        var seconds = clock.Elapsed.TotalSeconds;
        return Summarize(peer, scenario, sessions, concurrency, latencies, failed, firstError, seconds);
    }

    /// <summary>Runs sessions until <paramref name="until"/> is cancelled (the background load during a sync).</summary>
    public static async Task<LatencyResult> RunUntilAsync(string peer, string scenario, IBenchEndpoint endpoint, Func<int, string> tokenFor,
        int concurrency, CancellationToken until)
    {
        var latencies = new List<double>();
        var failed = 0;
        string? firstError = null;
        var next = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!until.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref next);
                var (ms, error) = await OneSessionAsync(endpoint, tokenFor(index));
                lock (latencies)
                {
                    if (error is null)
                    {
                        latencies.Add(ms);
                    }
                    else
                    {
                        failed++;
                        firstError ??= error;
                    }
                }
            }
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(workers);
        return Summarize(peer, scenario, latencies.Count + failed, concurrency, latencies, failed, firstError, clock.Elapsed.TotalSeconds);
    }

    private static async Task<(List<double> Latencies, int Failed, string? FirstError)> MeasureAsync(
        IBenchEndpoint endpoint, Func<int, string> tokenFor, int first, int count, int concurrency)
    {
        var latencies = new List<double>(count);
        var failed = 0;
        string? firstError = null;
        var next = first - 1;
        var last = first + count - 1;
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) <= last)
            {
                var (ms, error) = await OneSessionAsync(endpoint, tokenFor(index));
                lock (latencies)
                {
                    if (error is null)
                    {
                        latencies.Add(ms);
                    }
                    else
                    {
                        failed++;
                        firstError ??= error;
                    }
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        return (latencies, failed, firstError);
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
}
