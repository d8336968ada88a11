namespace OrleansVncCluster.Relay.Cluster;

/// <summary>A node as the directory knows it.</summary>
[GenerateSerializer, Immutable, Alias("vnc.NodeRegistration")]
public sealed record NodeRegistration(
    [property: Id(0)] string Name,
    [property: Id(1)] SiloAddress Silo,
    [property: Id(2)] INodeObserver Observer,
    [property: Id(3)] DateTimeOffset LastSeen);
