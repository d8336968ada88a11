using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// Keeps the sync grain's status (<see cref="ITokenSyncGrain.GetStatusAsync"/>) for the sync gauges, so that every node
/// reports the cluster's one sync and a scrape never waits on a grain call. Runs only when the Abiquo sync is on.
/// </summary>
public sealed class SyncStatusPoller(IGrainFactory grains, IConfiguration configuration, TimeProvider time) : BackgroundService
{
    /// <summary>Well under the 1 m scrape interval the rules assume; one cheap interleaving grain call per node.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(10);

    private SyncStatus? _latest;

    /// <summary>The last status read; null until one was.</summary>
    public SyncStatus? Latest => Volatile.Read(ref _latest);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!TokenSourcesHosting.AbiquoSyncEnabled(configuration))
        {
            return;
        }

        using var timer = new PeriodicTimer(PollInterval, time);
        do
        {
            try
            {
                Volatile.Write(ref _latest, await grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).GetStatusAsync().WaitAsync(PollInterval, time, stoppingToken));
            }
            catch (Exception exception) when (ClusterCall.Failed(exception) && !stoppingToken.IsCancellationRequested)
            {
                // Keep the last status: if the sync is really stuck, its last-success time ages and the alert fires.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
