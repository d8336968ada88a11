using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Logging;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sync;

/// <summary>Wires the token sync into a node.</summary>
public static partial class TokenSyncHosting
{
    /// <summary>
    /// Registers the Abiquo options (section <c>Abiquo</c>, validated at start-up), the Abiquo client, the Abiquo token
    /// source and the keeper that keeps the sync grain running. Call it only when <c>Abiquo:ApiUrl</c> is configured,
    /// together with <see cref="AddTokenSync(ISiloBuilder)"/> on the silo.
    /// </summary>
    public static IServiceCollection AddTokenSync(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AbiquoOptions>().Bind(configuration.GetSection(AbiquoOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AbiquoOptions>, AbiquoOptionsValidator>());
        services.AddAbiquoClient();
        services.TryAddEnumerable(ServiceDescriptor.Transient<ITokenSource, AbiquoTokenSource>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenTable>();
        services.AddHostedService<SyncKeeper>();
        return services;
    }

    /// <summary>Starts the sync grain as soon as the silo is active, instead of waiting for the first keeper ping.</summary>
    public static ISiloBuilder AddTokenSync(this ISiloBuilder silo) =>
        silo.AddStartupTask(async (services, cancellationToken) =>
        {
            try
            {
                await services.GetRequiredService<IGrainFactory>().GetGrain<ITokenSyncGrain>(TokenSync.Key).EnsureRunningAsync().WaitAsync(cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Never fail the silo's start for this: the keepers retry.
                LogStartupFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TokenSyncHosting).FullName!), exception);
            }
        }, ServiceLifecycleStage.Active);

    [LoggerMessage(EventId = EventIds.SyncKeeperFailed, Level = LogLevel.Warning,
        Message = "Could not start the token sync grain at silo start-up; the node keepers will retry")]
    private static partial void LogStartupFailed(ILogger logger, Exception exception);
}
