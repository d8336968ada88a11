using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>Registers and maps the console sessions: the endpoint, the dialer, the forwarder and the session registry.</summary>
public static partial class SessionsHosting
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
    /// Runs the console WebSocket path (Relay:Path, websockify's /websockify by default) on a branch of its own, ahead of
    /// routing and authentication. A session holds its request for as long as the console is open, and with it whatever
    /// the middlewares it passed through still hold: routing's and authentication's frames, the request's service scope
    /// and the authentication handlers built in it (about 1 KB of an idle session, dotnet-gcdump). The path needs none
    /// of them: admission (Admission/) checks its tickets and origins. On the branch: the in-place upgrade
    /// (<c>Relay:InPlaceFrames</c>), ASP.NET Core's WebSocket middleware, then <see cref="RelayEndpoint"/>.
    /// </summary>
    public static IApplicationBuilder UseRelaySessions(this IApplicationBuilder app)
    {
        var endpoint = app.ApplicationServices.GetRequiredService<RelayEndpoint>();
        return app.UseRelaySessions(endpoint.HandleAsync);
    }

    /// <summary><see cref="UseRelaySessions(IApplicationBuilder)"/> with the handler at the end of the branch given.</summary>
    internal static IApplicationBuilder UseRelaySessions(this IApplicationBuilder app, RequestDelegate handler)
    {
        var relay = app.ApplicationServices.GetRequiredService<IOptions<RelayOptions>>().Value;
        LogSocketAffinity(app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SocketAffinity)), SocketAffinity.Describe(relay.SocketAffinity));
        var path = new PathString(relay.Path.TrimEnd('/'));
        return app.MapWhen(context => IsSessionPath(context.Request.Path, path), session =>
        {
            if (relay.InPlaceFrames)
            {
                // Before ASP.NET Core's WebSocket middleware, which keeps the upgrade feature it finds on the request.
                session.Use((context, next) =>
                {
                    // A connection that hands its session off frames in place on its own transport (Sessions/UpgradeHandoff).
                    if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } kestrel && Sessions.UpgradeHandoff.Of(context) is null)
                    {
                        context.Features.Set<IHttpUpgradeFeature>(new InPlaceFramesUpgrade(kestrel));
                    }

                    return next(context);
                });
            }

            session.UseWebSockets();
            session.Run(handler);
        });
    }

    /// <summary>The session path with or without a trailing slash, in any case, as routing matched it; not the paths
    /// below it (the presence call, playback), which stay with routing.</summary>
    internal static bool IsSessionPath(PathString requested, PathString sessionPath) =>
        requested.StartsWithSegments(sessionPath, out var rest) && (!rest.HasValue || rest.Value == "/");

    /// <summary>Maps the console page's presence call below the session path (Sessions/ResumeGrants); the session path
    /// itself runs ahead of routing (<see cref="UseRelaySessions(IApplicationBuilder)"/>).</summary>
    public static IEndpointConventionBuilder MapRelayPresence(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<RelayOptions>>().Value.Path;
        return endpoints.MapGet(path.TrimEnd('/') + ResumeGrants.PresenceSuffix, (HttpContext context, ResumeGrants resume) => resume.PresenceAsync(context));
    }

    [LoggerMessage(EventId = EventIds.SocketAffinity, Level = LogLevel.Information,
        Message = "A session's two sockets on one socket thread: {State} (Relay:SocketAffinity)")]
    private static partial void LogSocketAffinity(ILogger logger, string state);
}
