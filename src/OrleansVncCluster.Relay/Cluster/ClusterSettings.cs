using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>Where the cluster keeps membership, tokens and reminders (configuration sections "Redis" and "Orleans").</summary>
public sealed class ClusterSettings
{
    /// <summary>StackExchange.Redis connection string; empty means embedded single-node clustering in memory.</summary>
    public string? RedisConnectionString { get; init; }

    /// <summary>Orleans cluster id; the same on every node of one cluster.</summary>
    public string ClusterId { get; init; } = "vnc-relay";

    /// <summary>Orleans service id; keys in Redis are prefixed with it.</summary>
    public string ServiceId { get; init; } = "vnc-relay";

    /// <summary>Unique per node.</summary>
    public string SiloName { get; init; } = Environment.MachineName;

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>The address other nodes reach this one at; never a VIP, never loopback across hosts.</summary>
    public IPAddress? AdvertisedAddress { get; init; }

    /// <summary>Redis TLS files (private CA, client certificate).</summary>
    public RedisTransport RedisTransport { get; init; } = new();

    /// <summary>
    /// Orleans' initial liveness-probe timeout (<c>Orleans:Membership:ProbeTimeout</c>). It bounds how long a silent
    /// host (crashed, cut off) keeps its grains, and so its uncached tokens, unreachable: Orleans' 5 s default took
    /// 63 s to declare a cut-off host dead in the separate-hosts test, 2 s took 27 s (one run each). Orleans adapts the timeout to
    /// measured probe times and stretches it while the prober itself is degraded, which guards against false deaths.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long start-up waits for Redis before giving up.</summary>
    public TimeSpan RedisStartupTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Reads the settings, with secrets from files when <c>Redis:ConnectionStringFile</c> is given.</summary>
    public static ClusterSettings From(IConfiguration configuration)
    {
        var connection = configuration["Redis:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connection) && configuration["Redis:ConnectionStringFile"] is { Length: > 0 } file)
        {
            connection = File.Exists(file)
                ? File.ReadAllText(file).Trim()
                : throw new InvalidOperationException($"Redis:ConnectionStringFile '{file}' does not exist; it holds the connection string, e.g. redis.example:6379,password=...,ssl=true");
        }

        var transport = RedisTransport.From(configuration);
        if (!string.IsNullOrWhiteSpace(connection) && transport.Problems() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        var advertised = configuration["Orleans:Endpoints:AdvertisedIPAddress"];
        IPAddress? address = null;
        if (!string.IsNullOrWhiteSpace(advertised) && !IPAddress.TryParse(advertised, out address))
        {
            throw new InvalidOperationException($"Orleans:Endpoints:AdvertisedIPAddress '{advertised}' is not an IP address; give this host's routable address, e.g. 10.0.0.5");
        }

        var siloPortText = configuration["Orleans:Endpoints:SiloPort"];
        var siloPort = 11111;
        if (!string.IsNullOrWhiteSpace(siloPortText) && (!int.TryParse(siloPortText, System.Globalization.CultureInfo.InvariantCulture, out siloPort) || siloPort is < 1 or > 65535))
        {
            throw new InvalidOperationException($"Orleans:Endpoints:SiloPort '{siloPortText}' is not a port (1-65535), e.g. 11111");
        }

        var probeTimeout = configuration.GetValue("Orleans:Membership:ProbeTimeout", TimeSpan.FromSeconds(2));
        if (probeTimeout < TimeSpan.FromMilliseconds(500) || probeTimeout > TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException($"Orleans:Membership:ProbeTimeout {probeTimeout} must be between 00:00:00.5 and 00:01:00, e.g. 00:00:02; "
                + "shorter declares busy nodes dead, longer leaves a silent host's tokens unreachable for minutes");
        }

        return new ClusterSettings
        {
            RedisConnectionString = string.IsNullOrWhiteSpace(connection) ? null : connection,
            ClusterId = configuration["Orleans:ClusterId"] is { Length: > 0 } clusterId ? clusterId : "vnc-relay",
            ServiceId = configuration["Orleans:ServiceId"] is { Length: > 0 } serviceId ? serviceId : "vnc-relay",
            SiloName = configuration["Orleans:SiloName"] is { Length: > 0 } siloName ? siloName : $"{Environment.MachineName}-{siloPort}",
            SiloPort = siloPort,
            AdvertisedAddress = address,
            RedisTransport = transport,
            RedisStartupTimeout = configuration.GetValue("Redis:StartupTimeout", TimeSpan.FromMinutes(5)),
            ProbeTimeout = probeTimeout,
        };
    }
}
