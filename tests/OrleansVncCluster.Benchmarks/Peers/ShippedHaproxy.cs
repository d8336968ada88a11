using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// HAProxy running the repository's own haproxy/haproxy.cfg, the file operators deploy, in the foreground on free
/// loopback ports in front of the nodes of one cluster (relay1..relayN). Everything site-specific comes from the
/// environment, as the integration tests' HaproxyServer sets it; the balancing, health checks, retries and redispatch
/// measured are the shipped ones.
/// </summary>
internal sealed class ShippedHaproxy : IAsyncDisposable
{
    private const string StatsPassword = "bench-stats-password";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    private readonly PeerProcess _process;

    private ShippedHaproxy(PeerProcess process, int port, int adminPort)
    {
        _process = process;
        Port = port;
        AdminPort = adminPort;
        Endpoint = new WebSocketEndpoint(port);
    }

    public int Port { get; }

    public int AdminPort { get; }

    public PeerProcess Process => _process;

    /// <summary>Sessions through HAProxy's public frontend.</summary>
    public IBenchEndpoint Endpoint { get; }

    /// <param name="settings">More of the config's environment, over the defaults here (the bench peer's client limits).</param>
    public static async Task<ShippedHaproxy> StartAsync(string configFile, IReadOnlyList<RelayPeer> nodes, string logDir,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        if (!File.Exists(configFile))
        {
            throw new FileNotFoundException($"{configFile} is missing: run the bench from the repository root (scripts/bench.sh does) or give --haproxy-config");
        }

        var port = Ports.Free();
        var adminPort = Ports.Free();
        var environment = new Dictionary<string, string>
        {
            ["HAPROXY_STATS_PASSWORD"] = StatsPassword,
            ["HAPROXY_HTTP_BIND"] = $"127.0.0.1:{port}",
            ["HAPROXY_LEGACY_BIND"] = "",
            ["HAPROXY_ADMIN_BIND"] = $"127.0.0.1:{adminPort}",
            ["HAPROXY_RUNTIME_SOCKET"] = Path.Combine(logDir, $"haproxy-{port}.sock"),
            ["HAPROXY_MAXCONN"] = "2000",
        };
        for (var i = 0; i < nodes.Count; i++)
        {
            environment[$"RELAY{i + 1}_ADDR"] = $"{nodes[i].Address}:{nodes[i].Port}";
            environment[$"RELAY{i + 1}_AGENT_PORT"] = nodes[i].Ports.Agent.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        var process = PeerProcess.Start("haproxy (shipped haproxy.cfg)", "haproxy", ["-f", configFile, "-db"], Path.Combine(logDir, $"haproxy-shipped-{port}.log"), environment);
        var haproxy = new ShippedHaproxy(process, port, adminPort);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
            for (var i = 0; i < nodes.Count; i++)
            {
                await haproxy.WaitForStatusAsync(ServerName(i), IsUp, TimeSpan.FromSeconds(60));
            }
        }
        catch
        {
            await haproxy.DisposeAsync();
            throw;
        }

        return haproxy;
    }

    /// <summary>The server line of node <paramref name="index"/> (0-based) in the shipped config: relay1, relay2, ...</summary>
    public static string ServerName(int index) => "relay" + (index + 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>In service: "UP" alone ("UP 1/3" is a server going down, "DOWN 1/2" one coming up).</summary>
    public static bool IsUp(string status) => status == "UP";

    /// <summary>Out of service after failed checks: "DOWN", or "DOWN (agent)".</summary>
    public static bool IsDown(string status) => status == "DOWN" || status.StartsWith("DOWN (", StringComparison.Ordinal);

    /// <summary>Waits until the stats page reports <paramref name="server"/> with a status that <paramref name="accept"/> takes.</summary>
    public async Task WaitForStatusAsync(string server, Func<string, bool> accept, TimeSpan timeout)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < timeout)
        {
            _process.ThrowIfExited();
            try
            {
                last = await StatusAsync(server);
                if (accept(last))
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                last = exception.Message;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"HAProxy did not report {server} {(accept == IsUp ? "UP" : accept == IsDown ? "DOWN" : "as expected")} within {timeout.TotalSeconds:F0} s (last: {last}); see {_process.LogFile}");
    }

    /// <summary>The status column of the stats CSV for one server of be_relay ("UP", "DOWN", "UP 1/3", ...).</summary>
    public async Task<string> StatusAsync(string server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{AdminPort}/stats;csv"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("admin:" + StatsPassword)));
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return HaproxyStatsCsv.ServerStatus(await response.Content.ReadAsStringAsync(), "be_relay", server)
            ?? throw new InvalidOperationException($"HAProxy's stats list no server {server} in be_relay");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
