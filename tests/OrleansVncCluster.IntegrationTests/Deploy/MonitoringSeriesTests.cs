using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// A live node's /metrics, read with a strict Prometheus text parser, has every series that the alert rules
/// (deploy/prometheus/*.rules.yml) and the Grafana dashboard (deploy/grafana/vnc-relay.json) query. The node runs what
/// makes every one of its series appear: TLS, the Abiquo sync (against the simulator), a session that relays and ends,
/// one whose VNC server is down, and a refused ticket.
/// </summary>
[Collection(MachineWide.Name)]
public sealed partial class MonitoringSeriesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task LiveNode_ExportsEverySeriesTheRulesAndTheDashboardQuery()
    {
        var wanted = QueriedSeries().Where(name => !name.StartsWith("haproxy_", StringComparison.Ordinal)).ToList();
        var directory = Repo.TempDirectory("monitoring");
        using var certificate = TestCertificates.CreateLeaf("relay-monitoring");
        var (certificateFile, keyFile) = TestCertificates.WritePem(certificate, directory, "relay");
        await using var echo = TcpTarget.Echo();
        var deadPort = Ports.Free();
        await using var simulator = await SimulatorProcess.StartAsync(echo.Port, deadPort);
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "monitoring",
            Environment =
            {
                ["Relay__CertificateFile"] = certificateFile,
                ["Relay__KeyFile"] = keyFile,
                ["Abiquo__ApiUrl"] = simulator.ApiUrl,
                ["Abiquo__User"] = SimulatorProcess.User,
                ["Abiquo__PasswordFile"] = simulator.PasswordFile,
                ["Sync__Interval"] = "00:00:01",
            },
        });

        await using (await ConsoleClient.OpenEchoingAsync(Wss(node, SimulatorProcess.TokenOf(echo.Port)), "a wss session through the synced token", configure: TrustAny))
        {
        }

        await using (var dead = await ConsoleClient.ConnectAsync(Wss(node, SimulatorProcess.TokenOf(deadPort)), configure: TrustAny))
        {
            Assert.Equal(WebSocketCloseStatus.InternalServerError, (await dead.ReadUntilCloseAsync(Timeout)).Status);
        }

        // Tickets are off on this node: anything shaped like one is refused, and counted as a ticket refusal.
        await using (var ticket = await ConsoleClient.ConnectAsync(new Uri($"wss://127.0.0.1:{node.Port}/websockify?ticket=vt1.k1.AAAA.AAAA"), configure: TrustAny))
        {
            await ticket.ReadUntilCloseAsync(Timeout);
        }

        PrometheusText? metrics = null;
        try
        {
            await Eventually.HoldsAsync(async () =>
            {
                metrics = await PrometheusText.ScrapeAsync(node);
                return wanted.All(metrics.Has) && metrics.Value("vnc_relay_sessions_ended_total") == 1;
            }, Timeout, "/metrics shows the ended session and every queried series (the sync's appear within 10 s of its first run)");
        }
        catch (TimeoutException timeout)
        {
            var missing = metrics is null ? "no scrape" : string.Join(", ", wanted.Where(name => !metrics.Has(name)));
            Assert.Fail($"{timeout.Message}; missing: {missing}; ended sessions: {metrics?.Value("vnc_relay_sessions_ended_total")}");
        }

        Assert.Equal(1, metrics!.Value("vnc_relay_sessions_failed_total{reason=\"target_unreachable\"}"));
        Assert.Equal(1, metrics.Value("vnc_relay_sessions_started_total"));
        Assert.Equal(0, metrics.Value("vnc_relay_sync_consecutive_failures"));
        Assert.Equal(certificate.NotAfter.ToUniversalTime(),
            DateTimeOffset.FromUnixTimeSeconds((long)metrics.Value("vnc_relay_certificate_expiry_timestamp_seconds")).UtcDateTime, TimeSpan.FromSeconds(1));
        var version = Assert.Single(metrics.Samples, s => s.Name == "vnc_relay_build_info").Labels["version"];
        Assert.Contains(version, (await DeployCommands.RunAsync("version", Repo.RelayExecutable, ["--version"])).Output, StringComparison.Ordinal);
        Assert.Equal("histogram", metrics.FamilyTypes["vnc_relay_session_setup_duration_seconds"]);
        Assert.Equal(1, metrics.Value("vnc_relay_session_duration_seconds_count"));

        // The runtime's collection counters the bench reads to say how long collections paused a node in a window
        // (tests/OrleansVncCluster.Benchmarks/Peers/NodeMetrics.cs): the start-up heap's collection has paused it already.
        Assert.True(metrics.Value("dotnet_gc_pause_time_seconds_total") > 0);
        Assert.True(metrics.Value("dotnet_gc_heap_total_allocated_bytes_total") > 0);
        Assert.True(metrics.Value("dotnet_gc_collections_total{gc_heap_generation=\"gen2\"}") > 0);
        Assert.All((string[])["gen0", "gen1"], generation => Assert.Contains(metrics.Samples,
            s => s.Name == "dotnet_gc_collections_total" && s.Labels.GetValueOrDefault("gc_heap_generation") == generation));
    }

    [Fact]
    public void RulesAndDashboard_QueryTheNodesSeriesAndHaproxysOnly()
    {
        var names = QueriedSeries();

        Assert.Contains("vnc_relay_active_sessions", names);
        Assert.Contains("haproxy_server_status", names);
        Assert.All(names, name => Assert.Matches("^(vnc_relay_|dotnet_|kestrel_|orleans_|haproxy_)", name));
    }

    /// <summary>The series names in every expr of the rules and every target of the dashboard (not `up`, which Prometheus makes).</summary>
    private static SortedSet<string> QueriedSeries()
    {
        var expressions = new List<string>();
        foreach (var rules in Directory.GetFiles(Path.Combine(Repo.Root, "deploy", "prometheus"), "*.rules.yml"))
        {
            expressions.AddRange(RuleExpression().Matches(File.ReadAllText(rules)).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value));
        }

        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "deploy", "grafana", "vnc-relay.json")));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                expressions.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        Assert.NotEmpty(expressions);
        return new SortedSet<string>(expressions.SelectMany(e => SeriesName().Matches(e).Select(m => m.Value)), StringComparer.Ordinal);
    }

    private static Uri Wss(RelayNodeProcess node, string token) => new($"wss://127.0.0.1:{node.Port}/websockify?token={token}");

    private static void TrustAny(ClientWebSocketOptions options) => options.RemoteCertificateValidationCallback = (_, _, _, _) => true;

    // An expr on one line, or a block scalar (expr: |) up to the next key.
    [GeneratedRegex(@"expr: (?:\|\s*\n((?:\s{10,}.*\n)+)|(.+))", RegexOptions.Multiline)]
    private static partial Regex RuleExpression();

    [GeneratedRegex(@"\b(?:vnc_relay|dotnet|kestrel|orleans|haproxy)_[a-z0-9_]+\b")]
    private static partial Regex SeriesName();
}
