using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansVncCluster.Relay.Tokens;
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
    public Transport.RedisTransport RedisTransport { get; init; } = new();

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

        var transport = Transport.RedisTransport.From(configuration);
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

/// <summary>Co-hosts the Orleans silo in the node process.</summary>
public static partial class ClusterHosting
{
    /// <summary>
    /// Configures the silo: Redis clustering, grain storage and reminders over ONE shared multiplexer when Redis is
    /// configured (each provider would otherwise open its own), or embedded localhost clustering with memory storage.
    /// </summary>
    public static void AddRelayCluster(this WebApplicationBuilder builder, ClusterSettings settings, IConnectionMultiplexer? redis)
    {
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.SiloName);
            silo.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = settings.ProbeTimeout);

            silo.UseSystemTextJsonGrainStorageSerializer();

            if (redis is not null)
            {
                // true: shared, so no provider disposes it while the others still use it.
                var shared = Task.FromResult((redis, true));
                silo.UseRedisClustering(o =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnectionString!);
                    o.CreateMultiplexer = _ => shared;
                });
                silo.AddRedisGrainStorage(TokenStorage.Name, (Orleans.Persistence.RedisStorageOptions o) =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnectionString!);
                    o.CreateMultiplexer = _ => shared;
                    o.DeleteStateOnClear = true;
                });
                silo.UseRedisReminderService(o =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnectionString!);
                    o.CreateMultiplexer = _ => shared;
                });
                silo.ConfigureEndpoints(settings.AdvertisedAddress ?? IPAddress.Loopback, settings.SiloPort, gatewayPort: 0, listenOnAnyHostAddress: true);
            }
            else
            {
                silo.UseLocalhostClustering(siloPort: settings.SiloPort, gatewayPort: 0, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
                silo.AddMemoryGrainStorage(TokenStorage.Name);
                silo.UseInMemoryReminderService();
            }
        });
    }

    /// <summary>
    /// Connects to Redis, retrying with backoff and a clear log line instead of letting the silo crash on start-up
    /// (Orleans exits after 6-8 s when Redis is down at start). The connection string is never logged: only endpoints.
    /// </summary>
    public static async Task<IConnectionMultiplexer> ConnectRedisAsync(ClusterSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var configuration = settings.RedisTransport.Apply(settings.RedisConnectionString!);

        // Each attempt reports why it failed, so wrong credentials stop start-up at once instead of retrying for
        // minutes; once connected, the multiplexer reconnects on its own whatever this flag says.
        configuration.AbortOnConnectFail = true;
        configuration.ConnectRetry = 1;
        var endpoints = Transport.RedisTransport.Describe(configuration);
        var delay = TimeSpan.FromMilliseconds(500);
        var deadline = DateTime.UtcNow + settings.RedisStartupTimeout;
        var attempt = 0;
        while (true)
        {
            attempt++;
            try
            {
                var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
                LogRedisConnected(logger, endpoints);
                return multiplexer;
            }
            catch (RedisConnectionException exception) when (exception.FailureType == ConnectionFailureType.AuthenticationFailure)
            {
                // The exception is not passed on: its text may quote the server's answer, never needed to fix this.
                // StackExchange.Redis reports a refused password and a refused TLS certificate alike.
                throw new InvalidOperationException(configuration.Ssl
                    ? $"Redis at {endpoints} refused the node: wrong or missing password= (or user=) in the connection string, or TLS verification failed; check the connection string in Redis:ConnectionStringFile or the redis-connection credential, and Redis:CaFile (the CA that issued Redis' certificate, which must name the host the connection string uses)"
                    : $"Redis at {endpoints} refused the node's credentials: wrong or missing password= (or user=); fix the connection string in Redis:ConnectionStringFile or the redis-connection credential");
            }
            catch (RedisConnectionException)
            {
                // Not reachable (yet): retry below.
            }

            if (DateTime.UtcNow + delay > deadline)
            {
                throw new InvalidOperationException(
                    $"Redis at {endpoints} did not answer within {settings.RedisStartupTimeout}; check that redis-server runs and Redis:ConnectionString (or Redis:ConnectionStringFile) is right");
            }

            LogWaitingForRedis(logger, endpoints, attempt, delay.TotalSeconds);
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

    [LoggerMessage(EventId = Logging.EventIds.WaitingForRedis, Level = LogLevel.Warning,
        Message = "Waiting for Redis at {Endpoints} (attempt {Attempt}); next try in {DelaySeconds:F1} s")]
    private static partial void LogWaitingForRedis(ILogger logger, string endpoints, int attempt, double delaySeconds);

    [LoggerMessage(EventId = Logging.EventIds.ClusteringMode, Level = LogLevel.Information, Message = "Connected to Redis at {Endpoints}")]
    private static partial void LogRedisConnected(ILogger logger, string endpoints);
}
