using Microsoft.Extensions.DependencyInjection.Extensions;

namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>Registers what every floor shares: the node's counters and the clock.</summary>
public static class DiagnosticsHosting
{
    /// <summary>Adds <see cref="RelayMetrics"/> (and the meter factory it needs) and <see cref="TimeProvider.System"/> (tests replace the clock).</summary>
    public static IServiceCollection AddRelayDiagnostics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RelayMetrics>();
        return services;
    }
}
