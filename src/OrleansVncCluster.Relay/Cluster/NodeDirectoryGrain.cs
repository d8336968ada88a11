using Orleans.Concurrency;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Cluster;

[Reentrant]
internal sealed partial class NodeDirectoryGrain(
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<NodeDirectoryGrain> logger) : Grain, INodeDirectoryGrain
{
    private readonly Dictionary<string, NodeRegistration> _nodes = new(StringComparer.Ordinal);

    public Task RegisterAsync(string name, SiloAddress silo, INodeObserver observer)
    {
        _nodes[name] = new NodeRegistration(name, silo, observer, time.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task<List<NodeRegistration>> NodesAsync() => Task.FromResult(LiveNodes());

    public async Task RevokeAsync(string token, RevocationCause cause)
    {
        await NodeFanOut.AskEveryAsync(LiveNodes(), async node =>
        {
            await node.TokenRevokedAsync(token, cause);
            return true;
        }, TimeSpan.FromSeconds(5), fallback: false, failed: (node, exception) => LogNodeUnreachable(logger, exception, node.Name));
    }

    private List<NodeRegistration> LiveNodes()
    {
        var now = time.GetUtcNow();
        var snapshot = membership.CurrentSnapshot;
        foreach (var (name, node) in _nodes.ToList())
        {
            var status = snapshot.GetSiloStatus(node.Silo);
            if (now - node.LastSeen > NodeDirectory.Expiry || status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping)
            {
                _nodes.Remove(name);
            }
        }

        return [.. _nodes.Values];
    }

    [LoggerMessage(EventId = EventIds.RevocationUndelivered, Level = LogLevel.Warning, Message = "Node {Node} did not answer a revocation")]
    private static partial void LogNodeUnreachable(ILogger logger, Exception exception, string node);
}
