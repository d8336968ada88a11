using System.Net;
using System.Net.Http.Headers;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// HAProxy with the shipped haproxy/haproxy.cfg, unprivileged, on free loopback ports, in front of two stub relays.
/// relay2's agent answers "drain", as a node does during a planned drain; relay1 has no agent at all (an agent that
/// does not answer must not take a node out).
/// </summary>
public sealed class HaproxyFront : IAsyncLifetime
{
    public const string StatsPassword = "front-test-Pa55";

    private readonly string _directory = Repo.TempDirectory("haproxy");
    private ManagedProcess? _haproxy;

    public StubRelay Relay1 { get; } = StubRelay.Start("relay1");
    public StubRelay Relay2 { get; } = StubRelay.Start("relay2");
    public TcpTarget Relay2Agent { get; } = TcpTarget.SendAndClose("drain\n"u8.ToArray());
    public int PublicPort { get; } = Ports.Free();
    public int LegacyPort { get; } = Ports.Free();
    public int AdminPort { get; } = Ports.Free();

    /// <summary>A client that ignores any proxy of the environment: everything here is loopback.</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    public Uri Public(string path) => new($"http://127.0.0.1:{PublicPort}{path}");

    public Uri Admin(string path) => new($"http://127.0.0.1:{AdminPort}{path}");

    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public async ValueTask InitializeAsync()
    {
        var environment = DeployCommands.IsolatedHaproxyEnvironment(new Dictionary<string, string?>
        {
            ["HAPROXY_STATS_PASSWORD"] = StatsPassword,
            ["HAPROXY_HTTP_BIND"] = $"127.0.0.1:{PublicPort}",
            ["HAPROXY_LEGACY_BIND"] = $"127.0.0.1:{LegacyPort}",
            ["HAPROXY_ADMIN_BIND"] = $"127.0.0.1:{AdminPort}",
            ["HAPROXY_RUNTIME_SOCKET"] = Path.Combine(_directory, "admin.sock"),
            ["HAPROXY_MAXCONN"] = "1000",
            ["RELAY1_ADDR"] = $"127.0.0.1:{Relay1.Port}",
            ["RELAY1_AGENT_PORT"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RELAY2_ADDR"] = $"127.0.0.1:{Relay2.Port}",
            ["RELAY2_AGENT_PORT"] = Relay2Agent.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        _haproxy = ManagedProcess.Start("haproxy", DeployCommands.Haproxy, ["-f", DeployCommands.HaproxyConfig, "-db"], environment);
        await Eventually.HoldsAsync(async () =>
        {
            if (_haproxy.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited with {_haproxy.ExitCode}:\n{_haproxy.Tail()}");
            }

            using var response = await Http.GetAsync(Admin("/healthz"));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(20), "haproxy answers /healthz on its admin port");
    }

    /// <summary>The status column of the stats page's CSV for one server of be_relay ("UP", "DRAIN (agent)", ...).</summary>
    public Task<string> ServerStatusAsync(string server) => ServerStatusAsync(Http, Admin("/"), StatsPassword, server);

    /// <summary>The status of one server of be_relay on the stats page of the HAProxy whose admin frontend is <paramref name="admin"/>.</summary>
    public static async Task<string> ServerStatusAsync(HttpClient http, Uri admin, string statsPassword, string server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(admin, "/stats;csv"));
        request.Headers.Authorization = Basic("admin", statsPassword);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var status = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "status");
        return lines.Select(line => line.Split(','))
            .Where(fields => fields is ["be_relay", var name, ..] && name == server)
            .Select(fields => fields[status])
            .Single();
    }

    public async ValueTask DisposeAsync()
    {
        if (_haproxy is not null)
        {
            await _haproxy.DisposeAsync();
        }

        Http.Dispose();
        await Relay1.DisposeAsync();
        await Relay2.DisposeAsync();
        await Relay2Agent.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
