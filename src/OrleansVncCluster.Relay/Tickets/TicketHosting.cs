using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>Registers console tickets in a node.</summary>
public static class TicketHosting
{
    /// <summary>Binds and validates <see cref="TicketOptions"/> ("Tickets") and adds the key ring and the relay's gate.</summary>
    public static IServiceCollection AddConsoleTickets(this IServiceCollection services)
    {
        services.AddOptions<TicketOptions>().BindConfiguration(TicketOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TicketOptions>, TicketOptionsValidator>());
        services.TryAddSingleton<TicketKeyRing>();
        return services;
    }
}
