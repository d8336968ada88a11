using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admin;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.ConsolePage;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Hosting;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;
using Serilog.Formatting.Compact;
using Serilog;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>Composes one relay node: configuration, logging, the silo, the listeners and the endpoints.</summary>
public static class RelayNode
{
    private const string ConsoleTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>Builds and runs the node until it is stopped; returns the process exit code.</summary>
    public static async Task<int> RunAsync(CommandLineRequest request)
    {
        Log.Logger = new LoggerConfiguration().WriteTo.Console(outputTemplate: ConsoleTemplate).CreateBootstrapLogger();
        try
        {
            var app = await BuildAsync(request);
            await app.RunAsync();
            // A component that stopped the node because it could not work (e.g. the HAProxy agent's port) set it.
            return Environment.ExitCode;
        }
        catch (OptionsValidationException exception)
        {
            Log.Fatal("Invalid configuration, the node did not start:\n  {Problems}", string.Join("\n  ", exception.Failures));
            return 78;
        }
        catch (InvalidOperationException exception)
        {
            Log.Fatal(exception, "The node could not start: {Problem}", exception.Message);
            return 1;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    /// <summary>Builds the node's application (used by tests that host a node in-process).</summary>
    public static async Task<WebApplication> BuildAsync(CommandLineRequest request)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. request.NativeArgs],
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (request.ConfigFile is { } configFile)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: true);
        }

        builder.Configuration.AddInMemoryCollection(Credentials.Read());
        builder.Configuration.AddInMemoryCollection(request.Settings);

        builder.Host.UseSerilog((context, services, logging) =>
        {
            logging.ReadFrom.Configuration(context.Configuration).Enrich.FromLogContext()
                .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Orleans", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Orleans.Runtime.Silo", Serilog.Events.LogEventLevel.Error)
                .MinimumLevel.Override("Polly", Serilog.Events.LogEventLevel.Warning);
            if (string.Equals(context.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
            {
                logging.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logging.WriteTo.Console(outputTemplate: ConsoleTemplate);
            }
        });
        builder.Host.UseSystemd();

        AddOptions<RelayOptions, RelayOptionsValidator>(builder.Services, RelayOptions.Section);
        AddOptions<TokenOptions, TokenOptionsValidator>(builder.Services, TokenOptions.Section);
        var relay = builder.Configuration.GetSection(RelayOptions.Section).Get<RelayOptions>() ?? new RelayOptions();
        var relayProblems = new RelayOptionsValidator().Validate(null, relay);
        if (relayProblems.Failed)
        {
            throw new OptionsValidationException(RelayOptions.Section, typeof(RelayOptions), relayProblems.Failures);
        }

        var cluster = ClusterSettings.From(builder.Configuration);
        var secretProblems = SecretSources.CommandLineProblems(request.NativeArgs).Concat(SecretSources.PlaceholderProblems(builder.Configuration,
            cluster.RedisConnectionString, ("Admin:TokenFile", builder.Configuration.GetSection(AdminOptions.Section).Get<AdminOptions>()?.Resolve()))).ToList();
        if (secretProblems.Count > 0)
        {
            throw new OptionsValidationException("Secrets", typeof(SecretSources), secretProblems);
        }

        StackExchange.Redis.IConnectionMultiplexer? redis = null;
        if (cluster.RedisConnectionString is null)
        {
            Log.Warning("No Redis configured (Redis:ConnectionString): embedded single-node clustering with in-memory tokens; "
                + "tokens are not shared with other nodes and are reloaded from their sources on restart");
        }
        else
        {
            redis = await ClusterHosting.ConnectRedisAsync(cluster, new Serilog.Extensions.Logging.SerilogLoggerFactory(Log.Logger).CreateLogger("Cluster"), CancellationToken.None);
            Log.Information("Clustering through Redis as silo {SiloName} (cluster {ClusterId}, silo port {SiloPort})", cluster.SiloName, cluster.ClusterId, cluster.SiloPort);
            if (cluster.AdvertisedAddress is null)
            {
                // Fine for several nodes on one host; on separate hosts the others would dial their own loopback.
                Log.Warning("Orleans:Endpoints:AdvertisedIPAddress is not set: this silo advertises 127.0.0.1, which only nodes on this host can reach; "
                    + "set it to this host's routable address (e.g. 10.0.0.5) when nodes run on separate hosts");
            }
            builder.Services.AddSingleton(redis);
        }

        builder.AddRelayCluster(cluster, redis);
        ConfigureListeners(builder, relay);

        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RelayMetrics>();
        builder.Services.AddSingleton<SessionRegistry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SessionRegistry>());
        builder.Services.AddSingleton<TokenResolver>();
        builder.Services.AddSingleton<TokenTable>();
        builder.Services.AddSingleton<RelayEndpoint>();
        builder.Services.AddSingleton<TargetDialer>();
        builder.Services.AddSingleton<SessionForwarder>();
        builder.Services.AddAdmission();
        builder.Services.TryAddSingleton<INodeLoad>(sp => sp.GetRequiredService<SessionRegistry>());
        builder.Services.TryAddSingleton(sp => NodeEndpointsFactory.From(sp.GetRequiredService<IOptions<RelayOptions>>().Value, sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<LocalNode>();
        builder.Services.AddHostedService<NodeRegistrar>();
        builder.Services.AddHostedService<TokenFileWatcher>();
        builder.Services.AddSingleton<DrainCoordinator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DrainCoordinator>());
        builder.Services.AddHostedService<HaproxyAgent>();
        builder.Services.AddConsolePage();
        builder.Services.AddConsoleTickets();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        var abiquoSync = !string.IsNullOrWhiteSpace(builder.Configuration["Abiquo:ApiUrl"]);
        if (abiquoSync)
        {
            builder.Services.AddTokenSync(builder.Configuration);
        }

        // The drain budget runs inside shutdown: give it room, or the host would cut it short.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = relay.DrainBudget + TimeSpan.FromSeconds(15));
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in relay.TrustedProxies)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.UseWebSockets();
        app.MapHealth();
        app.UseConsolePage();
        if (relay.WebRoot is { Length: > 0 } webRoot)
        {
            app.UseFileServer(new FileServerOptions { FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetFullPath(webRoot)) });
        }

        app.Map(relay.Path, (HttpContext context, RelayEndpoint endpoint) => endpoint.HandleAsync(context));
        if (!string.IsNullOrWhiteSpace(relay.AdminListen) && ListenAddress.TryParse(relay.AdminListen, out var admin, out _))
        {
            var adminHost = $"*:{admin.Port}";
            app.MapMetrics(adminHost);
            var adminApi = app.MapAdminApi(adminHost);
            app.MapTicketApi(adminHost);
            if (abiquoSync)
            {
                adminApi.MapSyncEndpoints("/sync");
            }
        }
        return app;
    }

    private static void AddOptions<TOptions, TValidator>(IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }

    private static void ConfigureListeners(WebApplicationBuilder builder, RelayOptions relay)
    {
        var transportLogger = new Serilog.Extensions.Logging.SerilogLoggerFactory(Log.Logger).CreateLogger("Transport");
        var certificate = relay.CertificateFile is { Length: > 0 } certificateFile
            ? new CertificateReloader(certificateFile, relay.KeyFile, relay.CertificateCheckInterval, transportLogger)
            : null;
        if (certificate is not null)
        {
            builder.Services.AddSingleton(certificate);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = relay.HandshakeTimeout;
            ConnectionCaps.Apply(kestrel, builder.Configuration, transportLogger);
            ListenAddress.TryParse(relay.Listen, out var publicEndpoint, out _);
            kestrel.Listen(publicEndpoint, listen =>
            {
                if (certificate is not null)
                {
                    // Asked per handshake, so a reloaded certificate serves new connections only.
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificateSelector = (_, _) => certificate.Current });
                }
            });
            if (!string.IsNullOrWhiteSpace(relay.AdminListen) && ListenAddress.TryParse(relay.AdminListen, out var admin, out _))
            {
                kestrel.Listen(admin);
            }
        });
    }
}
