using System.Net;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>Reads this node's listeners from its settings, for the target check (<see cref="NodeEndpoints"/>).</summary>
public static class NodeEndpointsFactory
{
    /// <summary>The ports and configured addresses of the public, admin and agent listeners and of the silo.</summary>
    public static NodeEndpoints From(RelayOptions relay, IConfiguration configuration, string? redisConnectionString)
    {
        var ports = new HashSet<int>();
        var addresses = new HashSet<IPAddress>();
        foreach (var listen in new[] { relay.Listen, relay.AdminListen, relay.AgentListen })
        {
            if (!string.IsNullOrWhiteSpace(listen) && ListenAddress.TryParse(listen, out var endpoint, out _))
            {
                addresses.Add(endpoint.Address);
                if (endpoint.Port > 0)
                {
                    ports.Add(endpoint.Port);
                }
            }
        }

        ports.Add(configuration.GetValue("Orleans:Endpoints:SiloPort", 11111));
        if (configuration.GetValue("Orleans:Endpoints:GatewayPort", 0) is > 0 and var gateway)
        {
            ports.Add(gateway);
        }

        if (IPAddress.TryParse(configuration["Orleans:Endpoints:AdvertisedIPAddress"], out var advertised))
        {
            addresses.Add(advertised);
        }

        return new NodeEndpoints(ports, addresses, RedisEndpoints(redisConnectionString));
    }

    /// <summary>The Redis (or Sentinel) endpoints of the connection string, which no console target may name.</summary>
    private static List<DnsEndPoint> RedisEndpoints(string? connectionString)
    {
        var endpoints = new List<DnsEndPoint>();
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return endpoints;
        }

        var options = StackExchange.Redis.ConfigurationOptions.Parse(connectionString, ignoreUnknown: true);
        foreach (var endpoint in options.EndPoints)
        {
            switch (endpoint)
            {
                case DnsEndPoint named:
                    endpoints.Add(new DnsEndPoint(named.Host, named.Port > 0 ? named.Port : 6379));
                    break;
                case IPEndPoint literal:
                    endpoints.Add(new DnsEndPoint(literal.Address.ToString(), literal.Port > 0 ? literal.Port : 6379));
                    break;
            }
        }

        return endpoints;
    }
}
