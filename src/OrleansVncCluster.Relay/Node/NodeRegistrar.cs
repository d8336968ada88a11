using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Node;

/// <summary>Keeps this node registered in the node directory (re-registering survives directory moves and restarts).</summary>
internal sealed partial class NodeRegistrar(
    IGrainFactory grains, LocalNode node, ILocalSiloDetails silo, DirectoryRegistration registration, TimeProvider time, ILogger<NodeRegistrar> logger) : BackgroundService
{
    /// <summary>Until the first registration is taken the node is not ready, so it is retried sooner than the refresh.</summary>
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reference = grains.CreateObjectReference<INodeObserver>(node);
        using (var retry = new PeriodicTimer(FirstRetry, time))
        {
            while (!await TryRegisterAsync(reference))
            {
                if (!await WaitAsync(retry, stoppingToken))
                {
                    return;
                }
            }
        }

        registration.MarkDone();
        using var timer = new PeriodicTimer(NodeDirectory.RefreshInterval, time);
        while (await WaitAsync(timer, stoppingToken))
        {
            await TryRegisterAsync(reference);
        }
    }

    private async Task<bool> TryRegisterAsync(INodeObserver reference)
    {
        try
        {
            // Bounded: a directory on a host that went silent would hold the call for Orleans' response timeout (30 s),
            // where a retry reaches the directory's new activation once membership has declared that host dead.
            await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).RegisterAsync(node.Name, silo.SiloAddress, reference)
                .WaitAsync(NodeDirectory.DeliveryTimeout, time);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogRegistrationFailed(logger, exception);
            return false;
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = EventIds.NodeRegistrationFailed, Level = LogLevel.Warning, Message = "Could not register this node in the node directory; retrying")]
    private static partial void LogRegistrationFailed(ILogger logger, Exception exception);
}
