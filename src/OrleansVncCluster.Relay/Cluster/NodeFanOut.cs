using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// Asks every registered node the same question at once, each with a deadline: one silent node costs the caller the
/// deadline, never a hang, and its answer is the fallback.
/// </summary>
public static class NodeFanOut
{
    /// <summary>Every node's answer, in node order; a node that fails or misses <paramref name="timeout"/> answers <paramref name="fallback"/>.</summary>
    public static Task<T[]> AskEveryAsync<T>(
        IEnumerable<NodeRegistration> nodes, Func<INodeObserver, Task<T>> ask, TimeSpan timeout, T fallback, Action<NodeRegistration, Exception>? failed = null) =>
        Task.WhenAll(nodes.Select(async node =>
        {
            try
            {
                return await ask(node.Observer).WaitAsync(timeout);
            }
            catch (Exception exception) when (ClusterCall.Failed(exception))
            {
                failed?.Invoke(node, exception);
                return fallback;
            }
        }));
}
