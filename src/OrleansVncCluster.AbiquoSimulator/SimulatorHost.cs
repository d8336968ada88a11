using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OrleansVncCluster.AbiquoSimulator.Admin;
using OrleansVncCluster.AbiquoSimulator.Api;

namespace OrleansVncCluster.AbiquoSimulator;

/// <summary>A running simulator: the web server and its state. Tests start one in-process on a free loopback port.</summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatorHost(WebApplication app, Simulator simulator, IReadOnlyList<string> addresses)
    {
        _app = app;
        Simulator = simulator;
        Addresses = addresses;
    }

    /// <summary>The state behind the API.</summary>
    public Simulator Simulator { get; }

    /// <summary>The addresses it listens on, with real port numbers (port 0 resolved).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The first listen address.</summary>
    public string BaseUrl => Addresses[0];

    /// <summary>The Abiquo API root, as clients configure it (<c>Abiquo:ApiUrl</c>).</summary>
    public string ApiUrl => $"{BaseUrl}/api";

    /// <summary>Generates the world and starts listening.</summary>
    public static async Task<SimulatorHost> StartAsync(SimulatorSettings settings, CancellationToken cancellationToken = default)
    {
        var simulator = new Simulator(settings);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls([.. settings.Urls]);
        if (settings.ServerCertificate is { } certificate)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate));
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // The shipped unit is Type=notify: tell systemd when we listen (a no-op outside systemd).
        builder.Services.AddSystemd();
        // Slow-answer faults hold requests for seconds; stopping must not wait for them.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        app.MapAbiquoApi(simulator);
        app.MapSimulatorAdmin(simulator);
        await app.StartAsync(cancellationToken);

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        return new SimulatorHost(app, simulator, [.. addresses.Select(a => a.TrimEnd('/'))]);
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Stops listening.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
