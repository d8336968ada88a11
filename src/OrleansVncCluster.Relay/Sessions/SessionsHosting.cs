using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>Registers and maps the console sessions: the endpoint, the dialer, the forwarder and the session registry.</summary>
public static class SessionsHosting
{
    /// <summary>Adds <see cref="RelayOptions"/> (section "Relay", validated once at start-up) and the session path's services.</summary>
    public static IServiceCollection AddRelaySessions(this IServiceCollection services)
    {
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>());
        services.AddOptions<TargetOptions>().BindConfiguration(TargetOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TargetOptions>, TargetOptionsValidator>());
        services.AddOptions<VncOptions>().BindConfiguration(VncOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VncOptions>, VncOptionsValidator>());
        services.TryAddSingleton<SessionPolicies>();
        services.TryAddSingleton<VncLogin>();
        // Replace, not TryAdd: the web host has registered Kestrel's own 4 KiB-block factory by now, and a TryAdd left it
        // in place (browser-to-VNC CPU per GiB doubled, measured with vnc-bench --baseline-relay).
        services.Replace(ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>());
        services.TryAddSingleton<SessionRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionRegistry>());
        services.TryAddSingleton<INodeLoad>(sp => sp.GetRequiredService<SessionRegistry>());
        // The history's session side; the history itself (Audit/AddRelayAudit) is registered before, so it stops after.
        services.TryAddSingleton<SessionAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionAudit>());
        services.TryAddSingleton<TargetDialer>();
        services.TryAddSingleton<SessionForwarder>();
        services.TryAddSingleton<ResumeGrants>();
        services.TryAddSingleton<SessionRehearsal>();
        services.TryAddSingleton<RelayEndpoint>();
        return services;
    }

    /// <summary>
    /// Gives console upgrades a <see cref="BrowserFrameStream"/> (<c>Relay:InPlaceFrames</c>, on by default). Runs before
    /// ASP.NET Core's WebSocket middleware, which keeps the upgrade feature it finds on the request.
    /// </summary>
    public static IApplicationBuilder UseInPlaceFrames(this IApplicationBuilder app)
    {
        var relay = app.ApplicationServices.GetRequiredService<IOptions<RelayOptions>>().Value;
        if (!relay.InPlaceFrames)
        {
            return app;
        }

        var path = new PathString(relay.Path.TrimEnd('/'));
        return app.Use((context, next) =>
        {
            // Routing matches the path with or without a trailing slash; so does this.
            if (context.Request.Path.StartsWithSegments(path, out var rest) && (!rest.HasValue || rest.Value == "/")
                && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } kestrel)
            {
                context.Features.Set<IHttpUpgradeFeature>(new InPlaceFramesUpgrade(kestrel));
            }

            return next(context);
        });
    }

    /// <summary>Maps the console WebSocket path (Relay:Path, websockify's /websockify by default) and, below it, the
    /// console page's presence call (Sessions/ResumeGrants).</summary>
    public static IEndpointConventionBuilder MapRelaySessions(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<RelayOptions>>().Value.Path;
        endpoints.MapGet(path.TrimEnd('/') + ResumeGrants.PresenceSuffix, (HttpContext context, ResumeGrants resume) => resume.PresenceAsync(context));
        return endpoints.Map(path, (HttpContext context, RelayEndpoint endpoint) => endpoint.HandleAsync(context));
    }
}
