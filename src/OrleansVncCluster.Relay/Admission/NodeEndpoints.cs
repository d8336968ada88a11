using System.Net;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// This node's own listeners, which no console target may name (<see cref="TargetPolicy"/>): their ports (public, admin,
/// agent, silo, gateway) and the addresses they were configured with. Hosting knows the listeners and fills it in
/// (Hosting/NodeEndpointsFactory.cs), so admission needs no listener settings of its own.
/// </summary>
/// <param name="Ports">The ports this node listens on.</param>
/// <param name="Addresses">The addresses its listeners were configured with (besides every local interface's).</param>
/// <param name="Services">The cluster's own services a console must not reach (its Redis endpoints), by host and port.</param>
public sealed record NodeEndpoints(IReadOnlyCollection<int> Ports, IReadOnlyCollection<IPAddress> Addresses, IReadOnlyCollection<DnsEndPoint>? Services = null);
