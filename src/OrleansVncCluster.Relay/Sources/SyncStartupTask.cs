using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>Starts the sync grain as soon as the silo is active, instead of waiting for the first keeper ping.</summary>
internal sealed partial class SyncStartupTask(IGrainFactory grains, ILogger<SyncStartupTask> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SyncStartupTask), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).EnsureRunningAsync().WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Never fail the silo's start for this: the keepers retry.
            LogStartupFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = EventIds.SyncStartupFailed, Level = LogLevel.Warning,
        Message = "Could not start the token sync grain at silo start-up; the node keepers will retry")]
    private static partial void LogStartupFailed(ILogger logger, Exception exception);
}
