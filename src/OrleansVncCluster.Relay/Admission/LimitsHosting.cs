using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Registers the abuse limits (section "Limits"), validated at start-up.</summary>
public static class LimitsHosting
{
    public static IServiceCollection AddLimits(this IServiceCollection services)
    {
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<ClientRateLimits>();
        services.AddSingleton<TargetPolicy>();
        services.AddSingleton<SessionAdmission>();
        services.TryAddSingleton<TicketGate>();
        return services;
    }
}
