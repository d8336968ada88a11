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

    // Revocations of the last NodeDirectory.Expiry: a node this activation did not know yet (the directory itself was
    // re-activating and nobody had re-registered, or the node had dropped out for a while) gets them when it registers.
    private readonly List<Revocation> _recent = [];

    public Task RegisterAsync(string name, SiloAddress silo, INodeObserver observer)
    {
        var known = _nodes.ContainsKey(name);
        var node = new NodeRegistration(name, silo, observer, time.GetUtcNow());
        _nodes[name] = node;
        if (!known)
        {
            // Once per node and activation: a node listed again after a gap, or every node at once after the directory
            // moved, is what explains a session list that missed a node for a few seconds.
            LogListed(logger, name, silo, _nodes.Count);
        }

        if (!known && Recent() is { Count: > 0 } missed)
        {
            LogReplaying(logger, missed.Count, name);

            // Not awaited: registration must not wait on deliveries; the tasks run on this activation and log their own end.
            _ = Task.WhenAll(missed.Select(revocation => DeliverAsync(node, revocation)));
        }

        return Task.CompletedTask;
    }

    public Task<List<NodeRegistration>> NodesAsync() => Task.FromResult(LiveNodes());

    public Task RevokeAsync(string token, RevocationCause cause)
    {
        var revocation = new Revocation(token, cause, time.GetUtcNow());
        Prune();
        _recent.Add(revocation);
        return Task.WhenAll(LiveNodes().Select(node => DeliverAsync(node, revocation)));
    }

    /// <summary>
    /// One node's delivery, retried with backoff while the node is still registered: a node busy for a moment or a call
    /// lost in a membership change gets the revocation seconds later, not at the next re-validation round
    /// (Node/SessionRevalidator.cs), which stays the backstop when every attempt fails.
    /// </summary>
    private async Task DeliverAsync(NodeRegistration node, Revocation revocation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await node.Observer.TokenRevokedAsync(revocation.Token, revocation.Cause).WaitAsync(NodeDirectory.DeliveryTimeout, time);
                if (attempt > 1)
                {
                    LogDeliveredAfterRetry(logger, node.Name, attempt);
                }

                return;
            }
            catch (Exception exception) when (ClusterCall.Failed(exception))
            {
                var delay = NodeDirectory.RetryDelay(attempt);
                if (delay is null || !StillRegistered(node))
                {
                    LogNodeUnreachable(logger, exception, node.Name, attempt);
                    return;
                }

                LogRetrying(logger, node.Name, attempt, delay.Value.TotalSeconds, exception.Message);
                await Task.Delay(delay.Value, time);
            }
        }
    }

    // A node that left (membership says dead, or it stopped registering) has no sessions to close; one that came back
    // under the same name with a new observer gets the revocation through the replay on registration.
    private bool StillRegistered(NodeRegistration node) =>
        LiveNodes().Any(live => live.Name == node.Name && live.Observer.Equals(node.Observer));

    private List<Revocation> Recent()
    {
        Prune();
        return [.. _recent];
    }

    /// <summary>
    /// Drops revocations older than <see cref="NodeDirectory.Expiry"/>. They are in time order, so only the head goes:
    /// a sync that removes 8,000 tokens revokes them within seconds, and scanning (let alone copying) the whole list for
    /// each would cost the square of that.
    /// </summary>
    private void Prune()
    {
        var since = time.GetUtcNow() - NodeDirectory.Expiry;
        var expired = 0;
        while (expired < _recent.Count && _recent[expired].At < since)
        {
            expired++;
        }

        _recent.RemoveRange(0, expired);
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

    private sealed record Revocation(string Token, RevocationCause Cause, DateTimeOffset At);

    [LoggerMessage(EventId = EventIds.RevocationUndelivered, Level = LogLevel.Warning,
        Message = "Node {Node} did not take a revocation after {Attempts} attempt(s); its re-validation ends the sessions (Revalidation:Interval)")]
    private static partial void LogNodeUnreachable(ILogger logger, Exception exception, string node, int attempts);

    [LoggerMessage(EventId = EventIds.RevocationRetrying, Level = LogLevel.Information,
        Message = "Node {Node} did not take a revocation (attempt {Attempt}: {Error}); retrying in {DelaySeconds:F1} s")]
    private static partial void LogRetrying(ILogger logger, string node, int attempt, double delaySeconds, string error);

    [LoggerMessage(EventId = EventIds.RevocationDeliveredAfterRetry, Level = LogLevel.Information,
        Message = "Node {Node} took a revocation at attempt {Attempt}")]
    private static partial void LogDeliveredAfterRetry(ILogger logger, string node, int attempt);

    [LoggerMessage(EventId = EventIds.NodeListed, Level = LogLevel.Information,
        Message = "Node {Node} (silo {Silo}) is listed in the node directory ({Nodes} node(s) listed)")]
    private static partial void LogListed(ILogger logger, string node, SiloAddress silo, int nodes);

    [LoggerMessage(EventId = EventIds.RevocationReplayed, Level = LogLevel.Information,
        Message = "Sending {Revocations} recent revocation(s) to node {Node}, new to the node directory (it may have missed them)")]
    private static partial void LogReplaying(ILogger logger, int revocations, string node);
}
