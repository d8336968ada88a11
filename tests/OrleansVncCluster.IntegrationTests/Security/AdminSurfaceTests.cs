using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>One node whose admin surface is probed from its public listener.</summary>
public sealed class AdminSurfaceFixture : IAsyncLifetime
{
    public RelayNodeProcess Node { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { SiloName = "admin-surface" });

    public async ValueTask DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// The admin surface is a port, not a Host header (issue 12, item 5): the public listener answers 404 for /metrics,
/// /api/* and /api/tickets even when the request names the admin listener in its Host header and carries the admin token.
/// </summary>
public sealed class AdminSurfaceTests(AdminSurfaceFixture fixture) : IClassFixture<AdminSurfaceFixture>
{
    private readonly RelayNodeProcess _node = fixture.Node;

    [Theory]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/api/sessions")]
    [InlineData("POST", "/api/tickets")]
    [InlineData("POST", "/api/drain")]
    [InlineData("DELETE", "/api/drain")]
    [InlineData("DELETE", "/api/tokens/some-token")]
    public async Task SpoofedAdminHostOnThePublicPort_Gets404(string method, string path)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), _node.HttpUri(path));
        request.Headers.Host = $"{_node.Address}:{_node.AdminPort}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RelayNodeProcess.AdminToken);
        if (method == "POST")
        {
            request.Content = new StringContent("{\"token\":\"x\"}", Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task AdminPort_StillAnswersMetricsAndTheApi()
    {
        using var admin = _node.AdminClient();

        using var metrics = await admin.GetAsync(new Uri("/metrics", UriKind.Relative), TestContext.Current.CancellationToken);
        using var sessions = await admin.GetAsync(new Uri("/api/sessions", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sessions.StatusCode);
    }
}
