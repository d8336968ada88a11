using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Node;

/// <summary>Keeps this node registered in the node directory (re-registering survives directory moves and restarts).</summary>
internal sealed partial class NodeRegistrar(
    IGrainFactory grains, LocalNode node, ILocalSiloDetails silo, TimeProvider time, ILogger<NodeRegistrar> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reference = grains.CreateObjectReference<INodeObserver>(node);
        using var timer = new PeriodicTimer(NodeDirectory.RefreshInterval, time);
        do
        {
            try
            {
                await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).RegisterAsync(node.Name, silo.SiloAddress, reference);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogRegistrationFailed(logger, exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
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
