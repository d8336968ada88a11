using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Registers admission: its options, the checks and the pipeline that runs them.</summary>
public static class AdmissionHosting
{
    /// <summary>
    /// Adds the admission pipeline. The host supplies what admission reads from the floors above it: an
    /// <see cref="INodeLoad"/> (live sessions) and the node's own <see cref="NodeEndpoints"/>.
    /// </summary>
    public static IServiceCollection AddAdmission(this IServiceCollection services)
    {
        services.AddOptions<AdmissionOptions>().BindConfiguration(AdmissionOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdmissionOptions>, AdmissionOptionsValidator>());
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>());
        services.TryAddSingleton<DrainState>();
        services.TryAddSingleton<ClientRateLimits>();
        services.TryAddSingleton<TargetPolicy>();
        services.TryAddSingleton<TicketGate>();
        services.TryAddSingleton<OriginCheck>();
        services.TryAddSingleton<ClientRateCheck>();
        services.TryAddSingleton<DrainCheck>();
        services.TryAddSingleton<NodeCapacityCheck>();
        services.TryAddSingleton<TicketCheck>();
        services.TryAddSingleton<TokenLookupCheck>();
        services.TryAddSingleton<TicketVmCheck>();
        services.TryAddSingleton<ResumeCheck>();
        services.TryAddSingleton<TicketRedemptionCheck>();
        services.TryAddSingleton<TargetCheck>();
        services.TryAddSingleton<LeaseCheck>();
        services.TryAddSingleton<AdmissionPipeline>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TargetPolicyWarning>());
        return services;
    }
}
