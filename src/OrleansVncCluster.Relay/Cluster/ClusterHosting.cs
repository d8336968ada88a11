using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization.Configuration;
using OrleansVncCluster.Relay.Diagnostics;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>Co-hosts the Orleans silo in the node process.</summary>
public static partial class ClusterHosting
{
    /// <summary>
    /// Configures the silo: Redis clustering, grain storage and reminders over ONE shared multiplexer when Redis is
    /// configured (each provider would otherwise open its own), or embedded localhost clustering with memory storage.
    /// </summary>
    public static void AddRelayCluster(this WebApplicationBuilder builder, ClusterSettings settings, IConnectionMultiplexer? redis, ILogger? logger = null)
    {
        builder.UseOrleans(silo =>
        {
            if (settings.Tls is { } tls)
            {
                UseSiloTls(silo, tls, logger);
            }

            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.SiloName);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = settings.ProbeTimeout;
                o.MaxProbeTimeout = settings.MaxProbeTimeout ?? settings.ProbeTimeout;
            });

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
                silo.AddRedisGrainStorage(TicketStorage.Name, (Orleans.Persistence.RedisStorageOptions o) =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(settings.RedisConnectionString!);
                    o.CreateMultiplexer = _ => shared;
                    o.DeleteStateOnClear = true;
                    o.EntryExpiry = TicketStorage.RecordLifetime;
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
                silo.AddMemoryGrainStorage(TicketStorage.Name);
                silo.UseInMemoryReminderService();
            }
        });
    }

    /// <summary>
    /// Bounds Orleans' per-thread pools of grain-call completion sources (<see cref="GrainCallPools"/>) for the grain
    /// interfaces Orleans' type manifest lists, and says so at start-up: without it every session set-up leaves objects
    /// behind for good.
    /// </summary>
    public static WebApplication BoundGrainCallPools(this WebApplication app)
    {
        var bounded = GrainCallPools.Bound(app.Services.GetRequiredService<IOptions<TypeManifestOptions>>().Value.Interfaces);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GrainCallPools));
        if (bounded > 0)
        {
            LogGrainCallPoolsBounded(logger, GrainCallPools.PerThread, bounded);
        }
        else
        {
            LogGrainCallPoolsUnbounded(logger);
        }

        return app;
    }

    /// <summary>
    /// The cluster for this node: connects to Redis (the one place a multiplexer is made; it is shared by clustering,
    /// storage and reminders and registered for the rest of the node) and hosts the silo. Without Redis the node runs an
    /// embedded single-node cluster with in-memory tokens.
    /// </summary>
    public static async Task<WebApplicationBuilder> AddRelayClusterAsync(this WebApplicationBuilder builder, ClusterSettings settings, ILogger logger)
    {
        IConnectionMultiplexer? redis = null;
        if (settings.RedisConnectionString is null)
        {
            LogEmbedded(logger);
        }
        else
        {
            redis = await ConnectRedisAsync(settings, logger, CancellationToken.None);
            LogClustering(logger, settings.SiloName, settings.ClusterId, settings.SiloPort);
            if (settings.AdvertisedAddress is null)
            {
                LogLoopbackAdvertised(logger);
            }

            builder.Services.TryAddSingleton(redis);
        }

        builder.Services.TryAddSingleton(Options.Create(settings));
        builder.AddRelayCluster(settings, redis, logger);
        return builder;
    }

    /// <summary>
    /// Mutual TLS on the silo port: this node presents its certificate when it dials and when it is dialled, requires
    /// one from the other side, and lets in only certificates that chain to the cluster CA (<see cref="SiloTls.Refusal"/>).
    /// The platform's own verdict is not used: it would also trust the system's public roots and check host names.
    /// </summary>
    private static void UseSiloTls(ISiloBuilder silo, SiloTls tls, ILogger? logger)
    {
        silo.UseTls(tls.Certificate, options =>
        {
            options.RemoteCertificateMode = Orleans.Connections.Security.RemoteCertificateMode.RequireCertificate;
            options.ClientCertificateMode = Orleans.Connections.Security.RemoteCertificateMode.RequireCertificate;
            options.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;
            options.RemoteCertificateValidation = (certificate, chain, errors) =>
                tls.Validate(certificate, chain, errors, (subject, reason) => LogPeerRefused(logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, subject, reason));
        });
        if (logger is not null)
        {
            LogSiloTls(logger, tls.Certificate.Subject, tls.Certificate.NotAfter.ToUniversalTime(), tls.CaFile);
        }
    }

    /// <summary>
    /// Connects to Redis, retrying with backoff and a clear log line instead of letting the silo crash on start-up
    /// (Orleans exits after 6-8 s when Redis is down at start). The connection string is never logged: only endpoints.
    /// </summary>
    public static async Task<IConnectionMultiplexer> ConnectRedisAsync(ClusterSettings settings, ILogger logger, CancellationToken cancellationToken, TimeSpan? startupTimeout = null)
    {
        var configuration = settings.RedisTransport.Apply(settings.RedisConnectionString!);

        // Each attempt reports why it failed, so wrong credentials stop start-up at once instead of retrying for
        // minutes; once connected, the multiplexer reconnects on its own whatever this flag says.
        configuration.AbortOnConnectFail = true;
        configuration.ConnectRetry = 1;
        var endpoints = RedisTransport.Describe(configuration);
        var delay = TimeSpan.FromMilliseconds(500);
        var timeout = startupTimeout ?? settings.RedisStartupTimeout;
        var deadline = DateTime.UtcNow + timeout;
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
                    $"Redis at {endpoints} did not answer within {timeout}; check that redis-server runs and Redis:ConnectionString (or Redis:ConnectionStringFile) is right");
            }

            LogWaitingForRedis(logger, endpoints, attempt, delay.TotalSeconds);
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }

    [LoggerMessage(EventId = EventIds.GrainCallPoolsBounded, Level = LogLevel.Information,
        Message = "Orleans' grain-call completion sources pooled at most {PerThread} a thread for each result type ({Pools} pools)")]
    private static partial void LogGrainCallPoolsBounded(ILogger logger, int perThread, int pools);

    [LoggerMessage(EventId = EventIds.GrainCallPoolsUnbounded, Level = LogLevel.Warning,
        Message = "This Orleans has no grain-call pools the node knows how to bound: they keep every completion source returned to them")]
    private static partial void LogGrainCallPoolsUnbounded(ILogger logger);

    [LoggerMessage(EventId = EventIds.SiloTlsOn, Level = LogLevel.Information,
        Message = "Silo TLS: presenting {Subject} (expires {NotAfter:u}); peers must present a certificate issued by the CA in {CaFile}")]
    private static partial void LogSiloTls(ILogger logger, string subject, DateTime notAfter, string caFile);

    [LoggerMessage(EventId = EventIds.SiloPeerRefused, Level = LogLevel.Warning,
        Message = "Refused a silo connection presenting {Subject}: {Reason}. A node with another CA or a stale certificate cannot join; an unknown process is kept out")]
    private static partial void LogPeerRefused(ILogger logger, string subject, string reason);

    [LoggerMessage(EventId = EventIds.WaitingForRedis, Level = LogLevel.Warning,
        Message = "Waiting for Redis at {Endpoints} (attempt {Attempt}); next try in {DelaySeconds:F1} s")]
    private static partial void LogWaitingForRedis(ILogger logger, string endpoints, int attempt, double delaySeconds);

    [LoggerMessage(EventId = EventIds.RedisConnected, Level = LogLevel.Information, Message = "Connected to Redis at {Endpoints}")]
    private static partial void LogRedisConnected(ILogger logger, string endpoints);

    [LoggerMessage(EventId = EventIds.EmbeddedClustering, Level = LogLevel.Warning,
        Message = "No Redis configured (Redis:ConnectionString): embedded single-node clustering with in-memory tokens; tokens are not shared with other nodes and are reloaded from their sources on restart")]
    private static partial void LogEmbedded(ILogger logger);

    [LoggerMessage(EventId = EventIds.RedisClustering, Level = LogLevel.Information,
        Message = "Clustering through Redis as silo {SiloName} (cluster {ClusterId}, silo port {SiloPort})")]
    private static partial void LogClustering(ILogger logger, string siloName, string clusterId, int siloPort);

    [LoggerMessage(EventId = EventIds.LoopbackAdvertised, Level = LogLevel.Warning,
        Message = "Orleans:Endpoints:AdvertisedIPAddress is not set: this silo advertises 127.0.0.1, which only nodes on this host can reach; set it to this host's routable address (e.g. 10.0.0.5) when nodes run on separate hosts")]
    private static partial void LogLoopbackAdvertised(ILogger logger);
}
