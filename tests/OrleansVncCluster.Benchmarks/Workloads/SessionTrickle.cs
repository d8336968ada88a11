using System.Diagnostics;
using OrleansVncCluster.Benchmarks.Clients;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>One session of the trickle: when it started and when its banner byte came or it failed (Stopwatch
/// timestamps), and why it failed if it did.</summary>
internal readonly record struct TrickleSession(long Started, long Ended, string? Error)
{
    public bool Opened => Error is null;
}

/// <summary>
/// Light, open-loop load: a new session (WebSocket open, token lookup, banner byte, close) every interval, each on its
/// own, whatever the ones before it are doing. A closed loop would stall on a dead node's hanging sessions and start no
/// new one, and the first session to open after a kill could only be as early as the stall ended.
/// </summary>
internal sealed class SessionTrickle : IAsyncDisposable
{
    private readonly List<TrickleSession> _sessions = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _inFlight;

    /// <param name="endpoints">Where the sessions go, in turn (HAProxy alone, or the nodes that stay up).</param>
    public SessionTrickle(IReadOnlyList<IBenchEndpoint> endpoints, string token, TimeSpan interval, int maxInFlight)
    {
        _inFlight = new SemaphoreSlim(maxInFlight);
        _loop = Task.Run(() => RunAsync(endpoints, token, interval));
    }

    /// <summary>Every session that has ended so far.</summary>
    public IReadOnlyList<TrickleSession> Sessions
    {
        get
        {
            lock (_sessions)
            {
                return [.. _sessions];
            }
        }
    }

    /// <summary>
    /// How long after <paramref name="since"/> (a Stopwatch timestamp) the first session started at or after it opened;
    /// null when none did by <paramref name="timeout"/>.
    /// </summary>
    public async Task<TimeSpan?> FirstOpenedAfterAsync(long since, TimeSpan timeout)
    {
        while (Stopwatch.GetElapsedTime(since) < timeout)
        {
            if (FirstOpenedAfter(Sessions, since) is { } opened)
            {
                return opened;
            }

            await Task.Delay(10);
        }

        return FirstOpenedAfter(Sessions, since);
    }

    /// <summary>The earliest end of a session that started at or after <paramref name="since"/> and opened, as time since it.</summary>
    public static TimeSpan? FirstOpenedAfter(IEnumerable<TrickleSession> sessions, long since) =>
        FirstOpenedEnd(sessions, s => s.Started >= since) is { } ended ? Stopwatch.GetElapsedTime(since, ended) : null;

    /// <summary>
    /// How long after <paramref name="since"/> every new session opened again: the banner of the first session that
    /// started after the last one to fail (of those started at or after <paramref name="since"/>); null when none did.
    /// A client whose address hashes to the dead node meets failures until HAProxy marks it DOWN, though sessions that
    /// HAProxy happened to redispatch opened before; this is what that client feels.
    /// </summary>
    public static TimeSpan? AllOpenAgainAfter(IEnumerable<TrickleSession> sessions, long since)
    {
        var after = sessions.Where(s => s.Started >= since).ToList();
        var lastFailure = after.Where(s => !s.Opened).Select(s => s.Started).DefaultIfEmpty(since - 1).Max();
        return FirstOpenedEnd(after, s => s.Started > lastFailure) is { } ended ? Stopwatch.GetElapsedTime(since, ended) : null;
    }

    private static long? FirstOpenedEnd(IEnumerable<TrickleSession> sessions, Func<TrickleSession, bool> counts) =>
        sessions.Where(s => s.Opened && counts(s)).Select(s => (long?)s.Ended).Min();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _inFlight.Dispose();
    }

    private async Task RunAsync(IReadOnlyList<IBenchEndpoint> endpoints, string token, TimeSpan interval)
    {
        var running = new List<Task>();
        using var timer = new PeriodicTimer(interval);
        var next = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                // Past the cap a tick is skipped rather than queued: the load stays light however long sessions hang.
                if (!_inFlight.Wait(0))
                {
                    continue;
                }

                var endpoint = endpoints[next++ % endpoints.Count];
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        var started = Stopwatch.GetTimestamp();
                        var (ms, error) = await SetupLatency.OneSessionAsync(endpoint, token);
                        // An opened session counts from its banner byte, not from the polite close after it.
                        var ended = error is null ? started + (long)(ms / 1000 * Stopwatch.Frequency) : Stopwatch.GetTimestamp();
                        lock (_sessions)
                        {
                            _sessions.Add(new TrickleSession(started, ended, error));
                        }
                    }
                    finally
                    {
                        _inFlight.Release();
                    }
                }));
                running.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped: the sessions still in flight end within their own timeout.
        }

        await Task.WhenAll(running);
    }
}
