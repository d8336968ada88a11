using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>Registers and maps the admin listener's endpoints: /metrics, /api (sessions, drain, sync) and /api/tickets.</summary>
public static class AdminHosting
{
    /// <summary>Adds <see cref="AdminOptions"/> (section "Admin", validated at start-up), the metrics export, and the admin authentication and policies.</summary>
    public static IServiceCollection AddRelayAdmin(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        services.AddRelayMetricsExport();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminBearerHandler>(AdminPolicies.Scheme, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicies.Admin, policy => policy.AddAuthenticationSchemes(AdminPolicies.Scheme).RequireRole(AdminPolicies.Admin))
            .AddPolicy(AdminPolicies.TicketIssuer, policy => policy.AddAuthenticationSchemes(AdminPolicies.Scheme).RequireRole(AdminPolicies.Admin, AdminPolicies.TicketIssuer));
        return services;
    }

    /// <summary>Maps the admin endpoints on the admin listener's port only; nothing when the admin listener is off.</summary>
    public static IEndpointRouteBuilder MapRelayAdmin(this IEndpointRouteBuilder endpoints, int? adminPort)
    {
        if (adminPort is not { } port)
        {
            return endpoints;
        }

        var adminHost = $"*:{port}";
        endpoints.MapMetrics(adminHost);
        var api = endpoints.MapAdminApi(adminHost);
        endpoints.MapTicketApi(adminHost);
        if (TokenSourcesHosting.AbiquoSyncEnabled(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            api.MapSyncEndpoints("/sync");
        }

        return endpoints;
    }
}
