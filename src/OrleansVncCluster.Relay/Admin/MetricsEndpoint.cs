using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OrleansVncCluster.Relay.Cli;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// /metrics on the admin listener: the Prometheus text exposition of the node's meter (<see cref="RelayMetrics"/>,
/// <see cref="NodeGauges"/>) and of the runtime's, Kestrel's and Orleans' meters, written by OpenTelemetry's Prometheus
/// exporter. Why that exporter rather than prometheus-net (both are in the package mirror): it reads
/// System.Diagnostics.Metrics directly, as the runtime, Kestrel and Orleans publish theirs, so one pipeline serves all
/// of them and the same instruments can go to an OTLP collector later by adding an exporter; prometheus-net (8.2.1, no
/// release since early 2024) reaches those meters only through its adapter, which renames them its own way. The cost:
/// the exporter package is still a beta, so its version is pinned in Directory.Packages.props.
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>The meters exported besides the node's own: the runtime's (GC, thread pool, process CPU and memory), Kestrel's, Orleans'.</summary>
    public static readonly string[] Meters = [RelayMetrics.MeterName, "System.Runtime", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.Orleans"];

    /// <summary>Adds the meter provider and its Prometheus exporter.</summary>
    public static IServiceCollection AddRelayMetricsExport(this IServiceCollection services)
    {
        services.AddSingleton<SyncStatusPoller>();
        services.AddHostedService(sp => sp.GetRequiredService<SyncStatusPoller>());
        services.AddSingleton<NodeGauges>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("vnc-relay", serviceVersion: VersionCommand.Version))
            .WithMetrics(metrics => metrics
            .AddMeter(Meters)
            // No cached answer: a scrape (or a test) right after a session event sees it.
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Maps /metrics on the admin listener's port only (the connection's local port, not the Host header).</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder endpoints, int adminPort)
    {
        // The scrape-time instruments exist from the start, so the first scrape already has them.
        endpoints.ServiceProvider.GetRequiredService<NodeGauges>();
        return endpoints.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(new AdminPortMetadata(adminPort));
    }
}
