using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Screenshots;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>Registers and maps the admin listener's endpoints: /metrics, /api (sessions, history, drain, sync, screenshot) and /api/tickets.</summary>
public static class AdminHosting
{
    /// <summary>Adds <see cref="AdminOptions"/> (section "Admin", validated at start-up), the metrics export, and the admin authentication and policies.</summary>
    public static IServiceCollection AddRelayAdmin(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        services.AddRelayMetricsExport();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        // No default scheme: with one scheme registered ASP.NET Core makes it the default, and the authentication
        // middleware then builds an AdminBearerHandler (with a logger of its own, which Serilog's factory does not
        // cache) for every request, console WebSockets included, held for the session's life: about 1 KiB of each idle
        // session (GC heap snapshot, docs/benchmarks.md). The admin policies name their scheme, so they still
        // authenticate. The switch is read when the authentication options are first built, after this.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminBearerHandler>(AdminPolicies.Scheme, configureOptions: null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicies.Admin, policy => policy.AddAuthenticationSchemes(AdminPolicies.Scheme).RequireRole(AdminPolicies.Admin))
            .AddPolicy(AdminPolicies.TicketIssuer, policy => policy.AddAuthenticationSchemes(AdminPolicies.Scheme).RequireRole(AdminPolicies.Admin, AdminPolicies.TicketIssuer));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, AdminPortPolicy>());
        return services;
    }

    /// <summary>Maps the admin endpoints on the admin listener's local port only (<see cref="AdminPortPolicy"/>, never the Host header); nothing when the admin listener is off.</summary>
    public static IEndpointRouteBuilder MapRelayAdmin(this IEndpointRouteBuilder endpoints, int? adminPort)
    {
        if (adminPort is not { } port)
        {
            return endpoints;
        }

        endpoints.MapMetrics(port);
        var api = endpoints.MapAdminApi(port);
        api.MapHistory();
        api.MapRecordings();
        api.MapScreenshotEndpoints();
        api.MapPlaybackTickets();
        endpoints.MapTicketApi(port);
        if (TokenSourcesHosting.AbiquoSyncEnabled(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            api.MapSyncEndpoints("/sync");
        }

        return endpoints;
    }
}
