using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Node;

/// <summary>Registers this node's face to the cluster: its observer and registration, drain, and the HAProxy agent.</summary>
public static class NodeHosting
{
    /// <summary>Adds the node observer and its registrar, the drain coordinator, the HAProxy agent and the start-up collection.</summary>
    public static IServiceCollection AddRelayNodeServices(this IServiceCollection services)
    {
        services.TryAddSingleton<LocalNode>();
        services.AddOptions<RevalidationOptions>().BindConfiguration(RevalidationOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RevalidationOptions>, RevalidationOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SessionRevalidator>());
        services.TryAddSingleton<DirectoryRegistration>();
        services.AddHostedService<NodeRegistrar>();
        services.TryAddSingleton<DrainCoordinator>();
        services.AddHostedService(sp => sp.GetRequiredService<DrainCoordinator>());
        services.AddHostedService<HaproxyAgent>();
        services.TryAddSingleton<StartupRehearsal>();
        services.TryAddSingleton<StartupHeap>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupHeap>());
        return services;
    }
}
