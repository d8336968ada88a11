using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>Registers the session history: its options, the store (Redis when the cluster has it, else memory), the
/// writer and the lost-node sweeper.</summary>
public static class AuditHosting
{
    /// <summary>Adds <see cref="AuditOptions"/> (section "Audit", validated at start-up), <see cref="IAuditStore"/>,
    /// <see cref="AuditTrail"/> and <see cref="LostNodeSweeper"/>.</summary>
    public static IServiceCollection AddRelayAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>());
        services.TryAddSingleton<AuditMetrics>();
        // The cluster registers its multiplexer only when Redis is configured (Cluster/ClusterHosting).
        services.TryAddSingleton<IAuditStore>(sp => sp.GetService<IConnectionMultiplexer>() is not null
            ? ActivatorUtilities.CreateInstance<RedisAuditStore>(sp)
            : ActivatorUtilities.CreateInstance<MemoryAuditStore>(sp));
        services.TryAddSingleton<AuditTrail>();
        // Registered before the sessions' services, so it stops after them and stores what their last sessions wrote.
        services.AddHostedService(sp => sp.GetRequiredService<AuditTrail>());
        services.AddHostedService<LostNodeSweeper>();
        return services;
    }
}
