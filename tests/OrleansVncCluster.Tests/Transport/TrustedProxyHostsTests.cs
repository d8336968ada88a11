using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Hosting;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Transport;

/// <summary>
/// Relay:TrustedProxyHosts (issue 12, item 12): X-Forwarded-For is believed from the addresses the names resolve to
/// (Kubernetes HAProxy pods behind a headless Service), not from any other pod, and only one hop of it.
/// </summary>
public sealed class TrustedProxyHostsTests
{
    private static readonly IPAddress HaproxyPod = IPAddress.Parse("10.42.1.7");
    private static readonly IPAddress OtherPod = IPAddress.Parse("10.42.3.9");

    [Fact]
    public async Task ForwardedFor_IsBelievedFromTheResolvedProxies_AndNotFromOtherPods()
    {
        var hosts = await ResolvedAsync(["haproxy-pods"], _ => [HaproxyPod]);
        var pipeline = Pipeline(hosts);

        Assert.Equal("203.0.113.7", await ClientAsync(pipeline, HaproxyPod, "203.0.113.7"));
        Assert.Equal("10.42.3.9", await ClientAsync(pipeline, OtherPod, "203.0.113.7"));

        // Only the last hop: a client cannot put a chain of its own in front of HAProxy's entry.
        Assert.Equal("203.0.113.7", await ClientAsync(pipeline, HaproxyPod, "198.51.100.1, 203.0.113.7"));
        Assert.True(hosts.Contains(IPAddress.Parse("::ffff:10.42.1.7")), "an IPv4-mapped address is the same proxy");
    }

    [Fact]
    public async Task WithoutNames_TheCidrListDecidesAsBefore()
    {
        var hosts = await ResolvedAsync([], _ => throw new InvalidOperationException("nothing to resolve"));
        var pipeline = Pipeline(hosts);

        Assert.Equal("10.42.3.9", await ClientAsync(pipeline, OtherPod, "203.0.113.7"));
        Assert.Equal("203.0.113.7", await ClientAsync(pipeline, IPAddress.Loopback, "203.0.113.7"));
    }

    [Fact]
    public async Task ANameThatStopsResolving_KeepsTheAddressesFoundBefore_AndANewPodIsTakenAtTheNextRound()
    {
        var answer = new[] { HaproxyPod };
        var failing = false;
        var hosts = await ResolvedAsync(["haproxy-pods"], _ => failing ? throw new SocketException((int)SocketError.HostNotFound) : answer);

        failing = true;
        await hosts.ResolveAsync(CancellationToken.None);
        Assert.True(hosts.Contains(HaproxyPod));

        (failing, answer) = (false, [OtherPod]);
        await hosts.ResolveAsync(CancellationToken.None);
        Assert.True(hosts.Contains(OtherPod));
        Assert.False(hosts.Contains(HaproxyPod), "a pod that left is no longer believed");
    }

    [Theory]
    [InlineData("haproxy-pods", true)]
    [InlineData("haproxy.vnc.svc.cluster.local", true)]
    [InlineData("http://haproxy", false)]
    [InlineData("two words", false)]
    public void HostNames_AreValidatedAtStartUp(string host, bool valid)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { TrustedProxyHosts = [host] });
        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Relay:TrustedProxyHosts entry", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    private static async Task<TrustedProxyHosts> ResolvedAsync(List<string> names, Func<string, IPAddress[]> resolve)
    {
        var hosts = new TrustedProxyHosts(Options.Create(new RelayOptions { TrustedProxyHosts = names }), NullLogger<TrustedProxyHosts>.Instance,
            (name, _) => Task.FromResult(resolve(name)));
        if (names.Count > 0)
        {
            await hosts.ResolveAsync(CancellationToken.None);
        }

        return hosts;
    }

    /// <summary>The node's forwarded-headers step with Relay:TrustedProxies at its default (loopback), ending in a handler that answers the client address.</summary>
    private static RequestDelegate Pipeline(TrustedProxyHosts hosts)
    {
        var services = new ServiceCollection().AddLogging().AddOptions()
            .Configure<ForwardedHeadersOptions>(forwarded =>
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                forwarded.KnownProxies.Clear();
                forwarded.KnownIPNetworks.Clear();
                foreach (var network in new RelayOptions().TrustedProxies)
                {
                    forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
                }
            })
            .BuildServiceProvider();
        var app = new ApplicationBuilder(services);
        app.UseRelayForwardedHeaders(hosts);
        app.Run(context => context.Response.WriteAsync(context.Connection.RemoteIpAddress!.ToString()));
        return app.Build();
    }

    private static async Task<string> ClientAsync(RequestDelegate pipeline, IPAddress from, string forwardedFor)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = from;
        context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        var body = new MemoryStream();
        context.Response.Body = body;
        await pipeline(context);
        return System.Text.Encoding.UTF8.GetString(body.ToArray());
    }
}
