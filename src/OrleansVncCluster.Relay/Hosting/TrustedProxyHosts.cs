using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Relay:TrustedProxyHosts: proxies known by DNS name rather than address, such as Kubernetes HAProxy pods whose
/// addresses change with every restart (a headless Service answers with every ready pod's address). The names are
/// resolved at start and every <see cref="Refresh"/>; a failed resolution keeps the previous addresses, so a DNS hiccup
/// does not turn every client into its proxy's address. Only a request from one of these addresses has its
/// X-Forwarded-For believed through this path; Relay:TrustedProxies (CIDR) works as before for the others.
/// </summary>
public sealed partial class TrustedProxyHosts(
    IOptions<RelayOptions> options, ILogger<TrustedProxyHosts> logger, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null) : BackgroundService
{
    /// <summary>How often the names are resolved again: a new HAProxy pod's clients count as the pod for at most this long.</summary>
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(10);

    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;
    private FrozenSet<IPAddress> _addresses = FrozenSet<IPAddress>.Empty;

    /// <summary>Whether <paramref name="address"/> is one of the proxies' current addresses (IPv4-mapped IPv6 counts as IPv4).</summary>
    public bool Contains(IPAddress? address) =>
        address is not null && Volatile.Read(ref _addresses) is { Count: > 0 } addresses && addresses.Contains(Normalize(address));

    /// <summary>Resolves every name once; the addresses of names that do not resolve now are kept from the last time.</summary>
    public async Task ResolveAsync(CancellationToken cancellationToken)
    {
        var previous = Volatile.Read(ref _addresses);
        var found = new HashSet<IPAddress>();
        foreach (var host in options.Value.TrustedProxyHosts)
        {
            try
            {
                found.UnionWith((await _resolve(host, cancellationToken)).Select(Normalize));
            }
            catch (SocketException exception)
            {
                LogUnresolved(logger, host, exception.SocketErrorCode.ToString());
                return;
            }
        }

        if (!found.SetEquals(previous))
        {
            Volatile.Write(ref _addresses, found.ToFrozenSet());
            LogResolved(logger, string.Join(", ", options.Value.TrustedProxyHosts), string.Join(", ", found.Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString())))));
        }
    }

    /// <summary>The options of the branch for requests from these proxies: one hop of X-Forwarded-For (and -Proto) is
    /// believed, whatever Relay:TrustedProxies says, because the sender was already checked by <see cref="Contains"/>.</summary>
    public static ForwardedHeadersOptions ForwardedOptions()
    {
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("0.0.0.0/0"));
        forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("::/0"));
        return forwarded;
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.TrustedProxyHosts.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Refresh);
        do
        {
            await ResolveAsync(stoppingToken);
        }
        while (await NextAsync(timer, stoppingToken));
    }

    private static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [LoggerMessage(EventId = EventIds.TrustedProxyHostsResolved, Level = LogLevel.Information,
        Message = "Relay:TrustedProxyHosts {Hosts} are now {Addresses}: their X-Forwarded-For is believed")]
    private static partial void LogResolved(ILogger logger, string hosts, string addresses);

    [LoggerMessage(EventId = EventIds.TrustedProxyHostsUnresolved, Level = LogLevel.Warning,
        Message = "Relay:TrustedProxyHosts entry {Host} did not resolve ({Error}); keeping the addresses found before. Check the name (a headless Service of the HAProxy pods) and the cluster DNS")]
    private static partial void LogUnresolved(ILogger logger, string host, string error);
}

/// <summary>The forwarded-headers step of the pipeline, by sender.</summary>
public static class TrustedProxyPipeline
{
    /// <summary>
    /// Requests from a <see cref="TrustedProxyHosts"/> address go through a forwarded-headers step that believes them;
    /// every other request through the usual one (Relay:TrustedProxies). Never both: a client inside the CIDR list must
    /// not get a second hop of its own X-Forwarded-For believed.
    /// </summary>
    public static IApplicationBuilder UseRelayForwardedHeaders(this IApplicationBuilder app, TrustedProxyHosts hosts)
    {
        var believed = TrustedProxyHosts.ForwardedOptions();
        app.UseWhen(context => hosts.Contains(context.Connection.RemoteIpAddress), branch => branch.UseForwardedHeaders(believed));
        app.UseWhen(context => !hosts.Contains(context.Connection.RemoteIpAddress), branch => branch.UseForwardedHeaders());
        return app;
    }
}
