using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>Wires the token sync into a node.</summary>
public static class TokenSyncHosting
{
    /// <summary>
    /// Registers the Abiquo options (section <c>Abiquo</c>) and the sync pacing options (section <c>Sync</c>), both
    /// validated at start-up, the Abiquo client, the Abiquo token
    /// source, the keeper that keeps the sync grain running and a silo start-up step that starts it as soon as the silo
    /// is active. Call it only when <c>Abiquo:ApiUrl</c> is configured.
    /// Binds from <paramref name="configuration"/> rather than the container's configuration, because the in-process
    /// test clusters hand each silo its own.
    /// </summary>
    public static IServiceCollection AddTokenSync(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AbiquoOptions>().Bind(configuration.GetSection(AbiquoOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AbiquoOptions>, AbiquoOptionsValidator>());
        services.AddOptions<SyncOptions>().Bind(configuration.GetSection(SyncOptions.SectionName))
            .PostConfigure(sync => SyncOptions.ApplyOldKeys(sync, configuration)).ValidateOnStart();
        services.TryAddSingleton(new SyncOldKeys([.. SyncOptions.OldKeys.Where(key => configuration[key.Old] is { Length: > 0 })]));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncOptions>, SyncOptionsValidator>());
        services.AddAbiquoClient();
        // The sync grain times each sync on the node's meter.
        services.AddRelayDiagnostics();
        services.TryAddEnumerable(ServiceDescriptor.Transient<ITokenSource, AbiquoTokenSource>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenTable>();
        services.AddHostedService<SyncKeeper>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, SyncStartupTask>());
        return services;
    }

}
