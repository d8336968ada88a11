using System.Net;
using System.Net.Sockets;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>The shipped HAProxy config, live: the stats page's password, the public edge, the legacy port, the agent.</summary>
[Collection(MachineWide.Name)]
public sealed class HaproxyFrontTests(HaproxyFront front) : IClassFixture<HaproxyFront>
{
    [Fact]
    public async Task StatsPage_WithoutPassword_AsksForIt()
    {
        using var response = await front.Http.GetAsync(front.Admin("/stats"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task StatsPage_WithWrongPassword_IsRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, front.Admin("/stats"));
        request.Headers.Authorization = HaproxyFront.Basic("admin", "xabiquo");

        using var response = await front.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task StatsPage_WithPassword_ShowsBothRelays()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, front.Admin("/stats"));
        request.Headers.Authorization = HaproxyFront.Basic("admin", HaproxyFront.StatsPassword);

        using var response = await front.Http.SendAsync(request);
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("be_relay", page, StringComparison.Ordinal);
        Assert.Contains("relay1", page, StringComparison.Ordinal);
        Assert.Contains("relay2", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacyStatsAddress_RedirectsToTheStatsPage()
    {
        using var response = await front.Http.GetAsync(front.Admin("/admin?stats"));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/stats", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task PrometheusMetrics_AreOnTheAdminPortOnly()
    {
        using var admin = await front.Http.GetAsync(front.Admin("/metrics"));
        using var publicEdge = await front.Http.GetAsync(front.Public("/metrics"));

        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("haproxy_server_status", await admin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, publicEdge.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/api/drain")]
    [InlineData("/stats")]
    [InlineData("/consoleX")]
    [InlineData("/novnc")]
    public async Task PathOutsideTheConsole_Is404AndReachesNoNode(string path)
    {
        // The stubs record every request, HAProxy's own /healthz checks too; the probe header marks this one.
        var probe = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, front.Public(path));
        request.Headers.Add(SeenRequest.ProbeHeader, probe);

        using var response = await front.Http.SendAsync(request);

        Assert.DoesNotContain(front.Relay1.AllRequests.Concat(front.Relay2.AllRequests), seen => seen.Probe == probe);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ProbeHeader_IsSeenByTheStub_WhenHaproxyForwardsTheRequest()
    {
        // The check above is only as good as the stub's view: a console request carrying a probe must show up.
        var probe = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, front.Public("/console/?probe=1"));
        request.Headers.Add(SeenRequest.ProbeHeader, probe);

        using var response = await front.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(front.Relay1.AllRequests.Concat(front.Relay2.AllRequests), seen => seen.Probe == probe);
    }

    [Fact]
    public async Task WebsockifyWithoutUpgrade_Is400()
    {
        using var response = await front.Http.GetAsync(front.Public("/websockify?token=abc"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/app.js")]
    [InlineData("/novnc/core/rfb.js")]
    public async Task ConsolePath_ReachesANode(string path)
    {
        using var response = await front.Http.GetAsync(front.Public(path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(front.Relay1.Requests.Concat(front.Relay2.Requests), seen => seen.Path == path);
    }

    [Fact]
    public async Task ClientClaimedForwardedFor_IsReplacedByTheRealAddress()
    {
        const string path = "/console/?spoofed=1";
        using var request = new HttpRequestMessage(HttpMethod.Get, front.Public(path));
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        using var response = await front.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(front.Relay1.Requests.Concat(front.Relay2.Requests), seen => seen.Path == path);
        Assert.Equal(["127.0.0.1"], seen.ForwardedFor);
    }

    [Fact]
    public async Task LegacyPort_SendsAWebSocketUpgradeOnAnyPathToWebsockify()
    {
        var status = await SendUpgradeAsync(front.LegacyPort, "/?token=legacy-abc");

        Assert.StartsWith("HTTP/1.1 200", status, StringComparison.Ordinal);
        Assert.Contains(front.Relay1.Requests.Concat(front.Relay2.Requests), seen => seen.Path == "/websockify?token=legacy-abc");
    }

    [Fact]
    public async Task AgentSayingDrain_SendsNewRequestsToTheOtherNode()
    {
        await Eventually.HoldsAsync(async () => await front.ServerStatusAsync("relay2") == "DRAIN (agent)",
            TimeSpan.FromSeconds(20), "HAProxy shows relay2 as DRAIN (agent) after its agent said drain");
        var before = front.Relay2.Requests.Count;

        for (var i = 0; i < 5; i++)
        {
            using var response = await front.Http.GetAsync(front.Public($"/console/?drained={i}"));
            Assert.Equal("relay1\n", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(before, front.Relay2.Requests.Count);
        Assert.Equal("UP", await front.ServerStatusAsync("relay1"));
    }

    private static async Task<string> SendUpgradeAsync(int port, string path)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: relay.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadLineAsync() ?? "";
    }
}
