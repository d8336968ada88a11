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
public static class TokenSyncHosting
{
    /// <summary>
    /// Registers the Abiquo options (section <c>Abiquo</c>) and the sync pacing options (section <c>Sync</c>), both
    /// validated at start-up, the Abiquo client, the Abiquo token
    /// source, the keeper that keeps the sync grain running and a silo start-up step that starts it as soon as the silo
    /// is active. Call it only when <c>Abiquo:ApiUrl</c> is configured.
    /// </summary>
    public static IServiceCollection AddTokenSync(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AbiquoOptions>().Bind(configuration.GetSection(AbiquoOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AbiquoOptions>, AbiquoOptionsValidator>());
        services.AddOptions<SyncOptions>().Bind(configuration.GetSection(SyncOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncOptions>, SyncOptionsValidator>());
        services.AddAbiquoClient();
        services.TryAddEnumerable(ServiceDescriptor.Transient<ITokenSource, AbiquoTokenSource>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenTable>();
        services.AddHostedService<SyncKeeper>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SyncStartupTask>();
        return services;
    }

}

/// <summary>Starts the sync grain as soon as the silo is active, instead of waiting for the first keeper ping.</summary>
internal sealed partial class SyncStartupTask(IGrainFactory grains, ILogger<SyncStartupTask> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SyncStartupTask), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).EnsureRunningAsync().WaitAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Never fail the silo's start for this: the keepers retry.
            LogStartupFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = EventIds.SyncKeeperFailed, Level = LogLevel.Warning,
        Message = "Could not start the token sync grain at silo start-up; the node keepers will retry")]
    private static partial void LogStartupFailed(ILogger logger, Exception exception);
}
