using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// Runs on every node and pings the sync grain every <see cref="SyncOptions.KeeperInterval"/>, so that when the node
/// hosting it dies, the next ping from a survivor activates it there (the reminder is the slower, durable backstop).
/// </summary>
internal sealed partial class SyncKeeper(IGrainFactory grains, IOptionsMonitor<SyncOptions> options, SyncOldKeys oldKeys, TimeProvider time, ILogger<SyncKeeper> logger) : BackgroundService
{
    /// <summary>Failures in a row tolerated quietly: a node that is still joining, or a sync grain that is moving.</summary>
    private const int QuietFailures = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var (old, now) in oldKeys.Found)
        {
            LogOldKey(logger, old, now);
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = options.CurrentValue.KeeperInterval;
            try
            {
                // A ping to a dead silo could otherwise wait for the 30 s response timeout.
                await grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).EnsureRunningAsync().WaitAsync(Max(interval, TimeSpan.FromSeconds(5)), time, stoppingToken);
                failures = 0;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                if (failures > QuietFailures)
                {
                    LogKeeperFailed(logger, exception, failures);
                }
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(EventId = EventIds.SyncOldKey, Level = LogLevel.Warning,
        Message = "{OldKey} is an old key, still read: set {NewKey} instead (the sync's schedule and pacing are all in the Sync section now)")]
    private static partial void LogOldKey(ILogger logger, string oldKey, string newKey);

    [LoggerMessage(EventId = EventIds.SyncKeeperFailed, Level = LogLevel.Warning,
        Message = "Cannot reach the token sync grain ({Failures} tries in a row); tokens are not being synced from their sources")]
    private static partial void LogKeeperFailed(ILogger logger, Exception exception, int failures);
}
