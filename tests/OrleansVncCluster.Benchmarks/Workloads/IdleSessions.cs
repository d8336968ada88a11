using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Opens sessions to the banner target until <c>requested</c> are live (each one proven by its banner byte) or the
/// peer stops taking more, then reads the peer's resident memory. A bounded attempt: it gives up after a run of
/// failures or when its time budget is spent, and records how far it got.
/// </summary>
internal static class IdleSessions
{
    private const int Concurrency = 32;
    private const int GiveUpAfterConsecutiveFailures = 64;
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    // Idle sessions receive nothing but pings; every pending read may share one scratch buffer.
    private static readonly byte[] Discard = new byte[4096];

    /// <param name="capacity">Sessions the peer has descriptors for; the attempt stops there (null: no such bound).</param>
    public static async Task<IdleResult> RunAsync(Peer peer, int requested, int? capacity, TimeSpan budget, TimeSpan hold)
    {
        var attempted = Math.Min(requested, capacity ?? int.MaxValue);
        var rssBefore = peer.TreeRssKiB();
        var pssBefore = peer.TreePssKiB();
        var held = new ConcurrentBag<IBenchConnection>();
        var holders = new ConcurrentBag<Task>();
        using var release = new CancellationTokenSource();
        var started = 0;
        var consecutiveFailures = 0;
        var stopReason = "reached";
        string? firstError = null;
        var clock = Stopwatch.StartNew();

        var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref started) <= attempted)
            {
                if (Volatile.Read(ref consecutiveFailures) >= GiveUpAfterConsecutiveFailures)
                {
                    return;
                }

                if (clock.Elapsed > budget)
                {
                    stopReason = $"time budget of {budget.TotalSeconds:F0} s spent";
                    return;
                }

                var (connection, error) = await OpenAsync(peer.Endpoint);
                if (connection is null)
                {
                    if (Interlocked.Increment(ref consecutiveFailures) == GiveUpAfterConsecutiveFailures)
                    {
                        stopReason = $"{GiveUpAfterConsecutiveFailures} sessions failed in a row";
                    }

                    Interlocked.CompareExchange(ref firstError, error, null);
                    continue;
                }

                Volatile.Write(ref consecutiveFailures, 0);
                held.Add(connection);
                holders.Add(HoldAsync(connection, release.Token));
            }
        })).ToList();
        await Task.WhenAll(workers);
        var openSeconds = clock.Elapsed.TotalSeconds;

        // Let the peer finish any lazy per-session work before reading its memory.
        await Task.Delay(Settle);
        var reached = held.Count - holders.Count(h => h.IsCompleted);
        if (reached >= attempted && attempted < requested)
        {
            stopReason = $"capped at {attempted:N0}: {peer.DescriptorsPerSession} descriptors per session, and the open-file limit cannot be raised here";
        }

        var result = new IdleResult(peer.Name, requested, attempted, reached, openSeconds, rssBefore, peer.TreeRssKiB(), pssBefore, peer.TreePssKiB(),
            peer.TreeSize(), peer.TreeFdCount(), reached >= requested ? "reached" : stopReason, firstError) { Forks = peer.ForksPerSession };

        await Task.Delay(hold);
        await release.CancelAsync();
        foreach (var connection in held)
        {
            connection.Abort();
        }

        await Task.WhenAll(holders);
        return result;
    }

    /// <summary>Waits until the peer's descriptor count is back near <paramref name="baseline"/> (its sessions are gone).</summary>
    public static async Task WaitForPeerToSettleAsync(Peer peer, int baseline, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (peer.TreeFdCount() > baseline + 16 && deadline.Elapsed < timeout)
        {
            await Task.Delay(100);
        }
    }

    private static async Task<(IBenchConnection? Connection, string? Error)> OpenAsync(IBenchEndpoint endpoint)
    {
        using var deadline = new CancellationTokenSource(SessionTimeout);
        IBenchConnection? connection = null;
        try
        {
            connection = await endpoint.ConnectAsync(TargetNames.Idle, ConnectionProfile.Light, deadline.Token);
            var banner = new byte[TargetServer.RfbBanner.Length];
            var read = await connection.ReceiveAsync(banner, deadline.Token);
            if (read == 0)
            {
                connection.Abort();
                return (null, "closed before the banner");
            }

            return (connection, null);
        }
        catch (Exception exception)
        {
            connection?.Abort();
            return (null, deadline.IsCancellationRequested ? $"no banner within {SessionTimeout.TotalSeconds:F0} s" : exception.Message);
        }
    }

    /// <summary>Keeps a read pending, as a browser does, so the peer's keep-alive pings are answered.</summary>
    private static async Task HoldAsync(IBenchConnection connection, CancellationToken release)
    {
        try
        {
            while (!release.IsCancellationRequested)
            {
                if (await connection.ReceiveAsync(Discard, release) == 0)
                {
                    return;
                }
            }
        }
        catch (Exception)
        {
            // Released (aborted) or dropped by the peer; either way the session is over.
        }
    }
}
