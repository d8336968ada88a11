using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using OrleansVncCluster.Relay.Logging;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>A live session as the admin API shows it (no token beyond its log prefix, no password).</summary>
[GenerateSerializer, Immutable, Alias("vnc.SessionInfo")]
public sealed record SessionInfo
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Node { get; init; }
    [Id(2)] public required string TokenPrefix { get; init; }
    [Id(3)] public string? Vm { get; init; }
    [Id(4)] public required string Target { get; init; }
    [Id(5)] public required string Client { get; init; }
    [Id(6)] public DateTimeOffset StartedAt { get; init; }
    [Id(7)] public long BytesToTarget { get; init; }
    [Id(8)] public long BytesToClient { get; init; }
}

/// <summary>What every node can be asked from anywhere in the cluster. Implemented by each node, not by a grain.</summary>
[Alias("vnc.INodeObserver")]
public interface INodeObserver : IGrainObserver
{
    /// <summary>Closes the node's live sessions of <paramref name="token"/> with <paramref name="reason"/> and forgets its cached entry.</summary>
    [Alias("TokenRevoked")]
    Task TokenRevokedAsync(string token, string reason);

    /// <summary>The node's live sessions.</summary>
    [Alias("ListSessions")]
    Task<List<SessionInfo>> ListSessionsAsync();

    /// <summary>Closes one session by id; false when the node has no such session.</summary>
    [Alias("CloseSession")]
    Task<bool> CloseSessionAsync(string sessionId, string reason);
}

/// <summary>A node as the directory knows it.</summary>
[GenerateSerializer, Immutable, Alias("vnc.NodeRegistration")]
public sealed record NodeRegistration(
    [property: Id(0)] string Name,
    [property: Id(1)] SiloAddress Silo,
    [property: Id(2)] INodeObserver Observer,
    [property: Id(3)] DateTimeOffset LastSeen);

/// <summary>
/// The cluster's list of relay nodes, used to fan out to every node (the GPSTracker HubListGrain pattern): each node
/// re-registers its observer every few seconds; nodes that stop doing so, or whose silo membership declares dead, drop out.
/// </summary>
[Alias("vnc.INodeDirectoryGrain")]
public interface INodeDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Register")]
    Task RegisterAsync(string name, SiloAddress silo, INodeObserver observer);

    [Alias("Nodes"), AlwaysInterleave]
    Task<List<NodeRegistration>> NodesAsync();

    /// <summary>Tells every node to close the sessions of a token. One-way: the writer of a token never waits on sessions.</summary>
    [OneWay, Alias("Revoke")]
    Task RevokeAsync(string token, string reason);
}

/// <summary>Constants of the node directory.</summary>
public static class NodeDirectory
{
    /// <summary>The directory is a cluster singleton under this key.</summary>
    public const long Key = 0;

    /// <summary>How often each node re-registers.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    /// <summary>A node not heard from for this long is dropped.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(20);
}

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

    public async Task RevokeAsync(string token, string reason)
    {
        var nodes = LiveNodes();
        var calls = nodes.Select(async node =>
        {
            try
            {
                await node.Observer.TokenRevokedAsync(token, reason).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception)
            {
                LogNodeUnreachable(logger, exception, node.Name);
            }
        });
        await Task.WhenAll(calls);
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

    [LoggerMessage(EventId = EventIds.NodeRegistrationFailed, Level = LogLevel.Warning, Message = "Node {Node} did not answer a revocation")]
    private static partial void LogNodeUnreachable(ILogger logger, Exception exception, string node);
}
