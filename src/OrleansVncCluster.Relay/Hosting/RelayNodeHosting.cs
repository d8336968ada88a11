using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admin;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Screenshots;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;
using Serilog;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// The composition root of a relay node, as YARP's AddReverseProxy/MapReverseProxy: configuration, logging, the
/// cluster and the listeners here; every feature brings its own AddX (services, options validated at start-up) and MapX.
/// </summary>
public static class RelayNodeHosting
{
    /// <summary>Adds everything a relay node runs: configuration sources, logging, the silo, the listeners and every feature.</summary>
    /// <param name="builder">The node's builder.</param>
    /// <param name="request">The node's command line.</param>
    /// <param name="connectRedis">False for <c>vnc-relay check</c>: the same registrations and validators, but no
    /// connection to Redis (the check reaches Redis itself, with its own deadline) and nothing is started.</param>
    public static async Task<WebApplicationBuilder> AddVncRelayNode(this WebApplicationBuilder builder, CommandLineRequest request, bool connectRedis = true)
    {
        if (request.ConfigFile is { } configFile)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: true);
        }

        builder.Configuration.AddInMemoryCollection(Credentials.Read());
        builder.Configuration.AddInMemoryCollection(request.Settings);
        if (LogFormat.Problem(builder.Configuration[LogFormat.Key]) is { } formatProblem)
        {
            throw new OptionsValidationException("Logging", typeof(LogFormat), [formatProblem]);
        }

        builder.Host.UseSerilog((context, services, logging) =>
        {
            logging.ReadFrom.Configuration(context.Configuration).Enrich.FromLogContext().Enrich.WithProperty("SourceContext", "vnc-relay")
                .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
                // Off, not Warning: while its logger is enabled at all, ASP.NET Core's hosting gives every request an
                // Activity and a log scope, and a console session keeps both for hours (0.4 KB of an idle session). It
                // writes only Information and Debug events, which the line above drops anyway.
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", Serilog.Events.LevelAlias.Off)
                .MinimumLevel.Override("Orleans", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Orleans.Runtime.Silo", Serilog.Events.LogEventLevel.Error)
                .MinimumLevel.Override("Polly", Serilog.Events.LogEventLevel.Warning);
            // Written by a background worker, so no socket completion (inline by default: InlineIo) waits on stdout;
            // past 10,000 queued events new ones are dropped rather than blocking the session path.
            logging.WriteTo.Async(sink => sink.Console(LogFormat.Formatter(context.Configuration[LogFormat.Key])), bufferSize: 10_000, blockWhenFull: false);
        });
        builder.Host.UseSystemd();

        var startupLogger = new Serilog.Extensions.Logging.SerilogLoggerFactory(Log.Logger);
        // Before the first socket of the process (Redis is dialled below): the runtime reads its switch once.
        InlineIo.Apply(builder, startupLogger.CreateLogger("Transport"));
        var cluster = ClusterSettings.From(builder.Configuration);
        var secretProblems = SecretSources.CommandLineProblems(request.NativeArgs).Concat(SecretSources.PlaceholderProblems(builder.Configuration,
            cluster.RedisConnectionString, ("Admin:TokenFile", builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>()?.Resolve()))).ToList();
        if (secretProblems.Count > 0)
        {
            throw new OptionsValidationException("Secrets", typeof(SecretSources), secretProblems);
        }

        Log.Information("Token sources: {TokenSources}", TokenSourceSummary.Describe(builder.Configuration));
        if (TokenSourceSummary.AbiquoWithoutApiUrl(builder.Configuration) is { } abiquoWarning)
        {
            Log.Warning("{AbiquoProblem}", abiquoWarning);
        }

        if (connectRedis)
        {
            await builder.AddRelayClusterAsync(cluster, startupLogger.CreateLogger("Cluster"));
        }
        else
        {
            builder.Services.TryAddSingleton(Options.Create(cluster));
            builder.AddRelayCluster(cluster, redis: null);
        }

        builder.AddRelayListeners(startupLogger.CreateLogger("Transport"));
        builder.Services
            .AddRelayDiagnostics()
            .AddConsoleTokens()
            .AddTokenSources(builder.Configuration)
            .AddConsoleTickets()
            .AddAdmission()
            .AddRelayAudit()
            .AddRelayRecording()
            .AddRelaySessions()
            .AddRelayScreenshots()
            .AddRecordingPlayback()
            .AddRelayNodeServices()
            .AddConsolePage()
            .AddRelayAdmin();
        builder.Services.TryAddSingleton(sp => NodeEndpointsFactory.From(sp.GetRequiredService<IOptions<RelayOptions>>().Value, sp.GetRequiredService<IConfiguration>(), cluster.RedisConnectionString));

        builder.Services.TryAddSingleton(sp => new TrustedProxyHosts(sp.GetRequiredService<IOptions<RelayOptions>>(), sp.GetRequiredService<ILogger<TrustedProxyHosts>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TrustedProxyHosts>());

        // The drain budget runs inside shutdown: give it room, or the host would cut it short.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<RelayOptions>>((host, relay) => host.ShutdownTimeout = relay.Value.DrainBudget + TimeSpan.FromSeconds(15));
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<RelayOptions>>((forwarded, relay) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in relay.Value.TrustedProxies)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return builder;
    }

    /// <summary>Maps the node: forwarded headers, the session path, then routing to health, the console page, the presence call,
    /// playback and the admin endpoints.</summary>
    public static WebApplication MapVncRelayNode(this WebApplication app)
    {
        var relay = app.Services.GetRequiredService<IOptions<RelayOptions>>().Value;
        app.BoundGrainCallPools();
        app.UseRelayForwardedHeaders(app.Services.GetRequiredService<TrustedProxyHosts>());
        app.UseRelaySessions();
        // Named here so that they come after the session path: a WebApplication would otherwise put routing and
        // authentication first, ahead of every middleware of its own.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseWebSockets();
        app.MapHealth();
        app.UseConsolePage();
        if (relay.WebRoot is { Length: > 0 } webRoot)
        {
            app.UseFileServer(new FileServerOptions { FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetFullPath(webRoot)) });
        }

        app.MapRelayPresence();
        app.MapConsoleShare();
        app.MapRecordingPlayback(relay.Path);
        app.MapRelayAdmin(!string.IsNullOrWhiteSpace(relay.AdminListen) && ListenAddress.TryParse(relay.AdminListen, out var admin, out _) ? admin.Port : null);
        return app;
    }
}
