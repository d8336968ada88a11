using Orleans.Concurrency;

namespace OrleansVncCluster.Relay.Cluster;

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
    [OneWay, Alias("RevokeForCause")]
    Task RevokeAsync(string token, RevocationCause cause);
}
