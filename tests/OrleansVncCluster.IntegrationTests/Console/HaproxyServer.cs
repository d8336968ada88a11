using System.Globalization;
using OrleansVncCluster.IntegrationTests.Deploy;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>
/// HAProxy running the repository's own haproxy/haproxy.cfg (the one operators deploy) in the foreground, unprivileged,
/// on free loopback ports, in front of the given relay nodes.
/// </summary>
public sealed class HaproxyServer : IAsyncDisposable
{
    /// <summary>Password of user "admin" on the stats page.</summary>
    public const string StatsPassword = "test-stats-password";

    private HaproxyServer(ManagedProcess process, int port, int adminPort)
    {
        Process = process;
        Port = port;
        AdminPort = adminPort;
    }

    public ManagedProcess Process { get; }

    public int Port { get; }

    /// <summary>The stats page, /metrics and /healthz of HAProxy itself.</summary>
    public int AdminPort { get; }

    /// <summary>The public URL users' browsers reach the cluster at.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public static async Task<HaproxyServer> StartAsync(IReadOnlyList<RelayNodeProcess> nodes)
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
        };
        for (var i = 0; i < nodes.Count; i++)
        {
            environment[$"RELAY{i + 1}_ADDR"] = $"{nodes[i].Address}:{nodes[i].Port}";
            environment[$"RELAY{i + 1}_AGENT_PORT"] = nodes[i].AgentPort.ToString(CultureInfo.InvariantCulture);
        }

        var process = ManagedProcess.Start("haproxy", DeployCommands.Haproxy, ["-f", DeployCommands.HaproxyConfig, "-db"],
            DeployCommands.IsolatedHaproxyEnvironment(environment));
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

    /// <summary>The stats page's status of server relayN (N = the node's place in the list given to StartAsync, from 1).</summary>
    public async Task<string> ServerStatusAsync(string server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await HaproxyFront.ServerStatusAsync(http, new Uri($"http://127.0.0.1:{AdminPort}"), StatsPassword, server);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
