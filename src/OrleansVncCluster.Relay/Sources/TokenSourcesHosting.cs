using Microsoft.Extensions.DependencyInjection.Extensions;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>Registers where tokens come from: the token file watcher, and the Abiquo sync when Abiquo:ApiUrl is set.</summary>
public static class TokenSourcesHosting
{
    /// <summary>Whether the Abiquo sync runs on this node (Abiquo:ApiUrl is set).</summary>
    public static bool AbiquoSyncEnabled(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["Abiquo:ApiUrl"]);

    /// <summary>Adds the token file watcher, and the Abiquo sync (<see cref="TokenSyncHosting.AddTokenSync"/>) when it is configured.</summary>
    public static IServiceCollection AddTokenSources(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<TokenFilesLoaded>();
        services.AddHostedService<TokenFileWatcher>();
        if (AbiquoSyncEnabled(configuration))
        {
            services.AddTokenSync(configuration);
        }

        return services;
    }
}
