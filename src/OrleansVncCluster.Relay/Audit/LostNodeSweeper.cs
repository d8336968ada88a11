using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// Closes, on a survivor, the history records a crashed node left open: when Orleans membership declares a silo dead
/// (or a newer process took over its address), its open records get end = the time this sweep noticed and close code
/// 1006, "node lost". One node sweeps at a time: the active silo that sorts first in the membership snapshot, which
/// every node computes alike; two sweeping at once during a membership change is harmless (closing is idempotent). It
/// runs on every membership change and every <see cref="Interval"/> besides. Only with the Redis store: in embedded mode
/// the history dies with the node anyway.
/// </summary>
public sealed partial class LostNodeSweeper(
    IAuditStore store, IClusterMembershipService membership, ILocalSiloDetails silo, TimeProvider time, ILogger<LostNodeSweeper> logger) : BackgroundService
{
    /// <summary>How often the sweeper looks besides membership changes (a change seen while Redis was down is retried).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is not RedisAuditStore redis)
        {
            LogInMemory(logger);
            return;
        }

        using var changed = new SemaphoreSlim(0, 1);
        var watching = WatchAsync(changed, stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await SweepAsync(redis);
                try
                {
                    await changed.WaitAsync(Interval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await watching;
        }
    }

    /// <summary>One sweep, if this node is the sweeper; returns the records it closed.</summary>
    public async Task<int> SweepAsync(RedisAuditStore redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var closed = 0;
        try
        {
            foreach (var lost in LostSilos(membership.CurrentSnapshot, silo.SiloAddress, await redis.OpenSilosAsync()))
            {
                var count = await redis.CloseLostAsync(lost, time.GetUtcNow());
                closed += count;
                LogClosed(logger, count, lost);
            }
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
        {
            LogSweepFailed(logger, exception.GetType().Name);
        }

        return closed;
    }

    /// <summary>
    /// Which of <paramref name="openSilos"/> (silo addresses with open records) this node, <paramref name="local"/>,
    /// closes now: none unless it is the active silo that sorts first; else those membership declares dead, and those
    /// whose address a newer process holds (a restart after a crash that membership had not noticed, e.g. the whole
    /// cluster was down). Never its own.
    /// </summary>
    internal static IReadOnlyList<string> LostSilos(ClusterMembershipSnapshot snapshot, SiloAddress local, IEnumerable<string> openSilos)
    {
        var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        if (active.Count == 0 || !active.MinBy(a => a.ToParsableString(), StringComparer.Ordinal)!.Equals(local))
        {
            return [];
        }

        return [.. openSilos.Where(open => TryParse(open, out var address) && !address.Equals(local)
            && (snapshot.GetSiloStatus(address) == SiloStatus.Dead
                || active.Any(a => a.Endpoint.Equals(address.Endpoint) && a.Generation > address.Generation)))];
    }

    private static bool TryParse(string text, out SiloAddress address)
    {
        try
        {
            address = SiloAddress.FromParsableString(text);
            return true;
        }
        catch (FormatException)
        {
            address = null!;
            return false;
        }
    }

    private async Task WatchAsync(SemaphoreSlim changed, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                // Coalesce: one pending wake-up is enough, the sweep reads the newest snapshot.
                if (changed.CurrentCount == 0)
                {
                    try
                    {
                        changed.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = EventIds.AuditLostNodeClosed, Level = LogLevel.Information,
        Message = "Session history: closed {Count} open record(s) of lost node {Silo} as \"node lost\" (1006)")]
    private static partial void LogClosed(ILogger logger, int count, string silo);

    [LoggerMessage(EventId = EventIds.AuditInMemory, Level = LogLevel.Information,
        Message = "Session history: no Redis, so GET /api/history answers from this node's memory (its newest Audit:MemoryRecords records), lost when it stops")]
    private static partial void LogInMemory(ILogger logger);

    [LoggerMessage(EventId = EventIds.AuditSweepFailed, Level = LogLevel.Warning,
        Message = "Session history: could not close the records of lost nodes ({Error}); retrying in 30 s")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
