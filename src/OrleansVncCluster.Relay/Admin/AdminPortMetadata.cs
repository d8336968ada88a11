namespace OrleansVncCluster.Relay.Admin;

/// <summary>Marks an endpoint as answering only on the admin listener's local port.</summary>
/// <param name="Port">The admin listener's port.</param>
public sealed record AdminPortMetadata(int Port);
