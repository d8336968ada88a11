using System.Globalization;
using OrleansVncCluster.IntegrationTests.Deploy;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// HAProxy running the repository's own haproxy/haproxy.cfg (the one operators deploy) in the foreground, unprivileged,
/// on free loopback ports, in front of the given relay nodes. In master-worker mode (<c>-W</c>, as Debian's unit runs
/// it) <see cref="ReloadAsync"/> reloads it the way <c>systemctl reload haproxy</c> does.
/// </summary>
public sealed class HaproxyServer : IAsyncDisposable
{
    public const string StatsPassword = "test-stats-password";

    private const string LoadingSuccess = "Loading success.";

    private HaproxyServer(ManagedProcess process, int port, int adminPort)
    {
        Process = process;
        Port = port;
        AdminPort = adminPort;
    }

    public ManagedProcess Process { get; }

    public int Port { get; }

    /// <summary>The admin frontend: stats page, /metrics, /healthz.</summary>
    public int AdminPort { get; }

    /// <summary>The public URL users' browsers reach the cluster at.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public Uri WebSocketUri(string token) => new($"ws://127.0.0.1:{Port}/websockify?token={Uri.EscapeDataString(token)}");

    public Uri AdminUri(string path) => new($"http://127.0.0.1:{AdminPort}{path}");

    public static async Task<HaproxyServer> StartAsync(IReadOnlyList<RelayNodeProcess> nodes, bool masterWorker = false, IDictionary<string, string?>? extraEnvironment = null)
    {
        var port = Ports.Free();
        var adminPort = Ports.Free();
        var directory = Repo.TempDirectory("haproxy");
        var environment = new Dictionary<string, string?>
        {
            ["HAPROXY_STATS_PASSWORD"] = StatsPassword,
            ["HAPROXY_HTTP_BIND"] = $"127.0.0.1:{port}",
            ["HAPROXY_LEGACY_BIND"] = "",
            ["HAPROXY_ADMIN_BIND"] = $"127.0.0.1:{adminPort}",
            ["HAPROXY_RUNTIME_SOCKET"] = Path.Combine(directory, "admin.sock"),
            ["HAPROXY_MAXCONN"] = "2000",
        };
        for (var i = 0; i < nodes.Count; i++)
        {
            environment[$"RELAY{i + 1}_ADDR"] = $"{nodes[i].Address}:{nodes[i].Port}";
            environment[$"RELAY{i + 1}_AGENT_PORT"] = nodes[i].AgentPort.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        string[] args = masterWorker ? ["-W", "-db", "-f", DeployCommands.HaproxyConfig] : ["-f", DeployCommands.HaproxyConfig, "-db"];
        var process = ManagedProcess.Start("haproxy", DeployCommands.Haproxy, args, DeployCommands.IsolatedHaproxyEnvironment(environment));
        var server = new HaproxyServer(process, port, adminPort);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Eventually.HoldsAsync(async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"haproxy exited with {process.ExitCode}:\n{process.Tail()}");
                }

                using var response = await http.GetAsync(new Uri(server.BaseUri, "/console"));
                return response.IsSuccessStatusCode;
            }, TimeSpan.FromSeconds(20), $"haproxy on {port} serves /console from a relay node");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>
    /// Reloads a master-worker HAProxy (SIGUSR2 to the master, what Debian's unit does on reload): a new worker takes the
    /// listeners, the old one keeps its live connections until they end. Returns once the new worker is loaded.
    /// </summary>
    public async Task ReloadAsync()
    {
        var loaded = Count(Process.Output, LoadingSuccess);
        Process.Signal("USR2");
        await Eventually.HoldsAsync(() => Count(Process.Output, LoadingSuccess) > loaded || Process.HasExited,
            TimeSpan.FromSeconds(20), "the HAProxy master logs 'Loading success.' for the new worker");
        Assert.False(Process.HasExited, $"haproxy exited on reload:\n{Process.Tail()}");
    }

    /// <summary>The status column of the stats page's CSV for one server of be_relay ("UP", "DOWN", "DRAIN (agent)", ...).</summary>
    public async Task<string> ServerStatusAsync(string server)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        return await HaproxyStats.ServerStatusAsync(http, AdminUri("/stats;csv"), StatsPassword, server);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
