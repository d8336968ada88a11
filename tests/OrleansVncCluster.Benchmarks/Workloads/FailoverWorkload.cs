using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Issue 17's failover row: two nodes on one throwaway redis-server, the shipped haproxy.cfg in front, a light trickle of
/// new sessions through HAProxy. The node that carries the trickle (HAProxy's source hash sends 127.0.0.1 to one node)
/// is killed with SIGKILL, and the time from the kill to the first session started after it that opens is taken; then
/// the node is started again on its ports and the next round waits until HAProxy reports it UP.
/// </summary>
internal sealed class FailoverWorkload(BenchOptions options, string tokenFile, string workDirectory, string logDirectory, Action<string> log)
{
    /// <summary>The token of the Xvnc desktop the console page shows.</summary>
    private const string ConsoleToken = "bench-console";

    private const string AdminToken = "bench-admin-token-0123456789";

    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private string _nodeTokens = "";
    private string _adminTokenFile = "";
    private string _ticketSecretFile = "";

    /// <summary>Two nodes: the smallest cluster with a survivor, and the least CPU taken from the nodes being measured.</summary>
    public const int NodeCount = 2;

    /// <summary>Ten new sessions a second: "a few sessions opening continuously", far below what a node sustains.</summary>
    private static readonly TimeSpan TrickleInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>A kill after which no session opens within this long is recorded as this long (and fails the target).
    /// The console page's wait too.</summary>
    private static readonly TimeSpan RecoveryWait = TimeSpan.FromSeconds(30);

    public async Task<FailoverResult> RunAsync()
    {
        var cluster = "bench-failover-" + Guid.NewGuid().ToString("N")[..8];
        var recoveries = new List<double>();
        var backUp = new List<double>();
        var settled = new List<double>();
        RedisServer? redis = null;
        var nodes = new RelayPeer?[NodeCount];
        ShippedHaproxy? haproxy = null;
        SessionTrickle? trickle = null;
        XvncDesktop? desktop = null;
        IReadOnlyList<TrickleSession> sessions = [];
        ConsoleResumeResult? console = null;
        string? error = null;
        try
        {
            // Tickets for the console page: an admin token to ask for them, one ticket key for every node.
            _adminTokenFile = Path.Combine(workDirectory, "failover-admin-token");
            await File.WriteAllTextAsync(_adminTokenFile, AdminToken);
            _nodeTokens = tokenFile;
            _ticketSecretFile = Path.Combine(workDirectory, "failover-ticket-secret");
            await File.WriteAllTextAsync(_ticketSecretFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            if (ConsoleMeasurable() is null)
            {
                desktop = await XvncDesktop.StartAsync(logDirectory);
                _nodeTokens = Path.Combine(workDirectory, "tokens-failover.cfg");
                await File.WriteAllTextAsync(_nodeTokens, await File.ReadAllTextAsync(tokenFile) + Invariant($"{ConsoleToken}: 127.0.0.1:{desktop.Port}\n"));
            }

            redis = await RedisServer.StartAsync(logDirectory);
            var ports = Enumerable.Range(0, NodeCount).Select(_ => RelayPorts.Free()).ToArray();
            // Side by side, as the separate-hosts fixture starts its nodes: Redis membership lets them join in any
            // order, and the run is shorter by one node's start.
            var starting = Enumerable.Range(0, NodeCount).Select(i => StartNodeAsync(i, ports[i], redis, cluster)).ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                for (var i = 0; i < NodeCount; i++)
                {
                    nodes[i] = starting[i].IsCompletedSuccessfully ? starting[i].Result : null;
                }
            }

            haproxy = await ShippedHaproxy.StartAsync(options.HaproxyConfig, [.. nodes.Select(n => n!)], logDirectory);
            log($"failover: {NodeCount} nodes (pids {string.Join(", ", nodes.Select(n => n!.Pid))}) on redis-server {redis.ConnectionString}, " +
                $"HAProxy ({options.HaproxyConfig}) pid {haproxy.Process.Pid} on 127.0.0.1:{haproxy.Port}; a session every {TrickleInterval.TotalMilliseconds:F0} ms");
            trickle = new SessionTrickle([haproxy.Endpoint], TargetNames.Banner, TrickleInterval, maxInFlight: 50);
            for (var kill = 1; kill <= options.FailoverKills; kill++)
            {
                var victim = await CarrierAsync(nodes!);
                var killed = Stopwatch.GetTimestamp();
                await nodes[victim]!.Process.KillAsync();
                var recovered = await trickle.FirstOpenedAfterAsync(killed, RecoveryWait);
                recoveries.Add((recovered ?? RecoveryWait).TotalSeconds);
                // Every new session opens again once HAProxy has taken the dead node out; a second of trickle after that
                // shows whether they do.
                await haproxy.WaitForStatusAsync(ShippedHaproxy.ServerName(victim), ShippedHaproxy.IsDown, RecoveryWait);
                var markedDown = Stopwatch.GetElapsedTime(killed);
                await Task.Delay(TimeSpan.FromSeconds(1));
                var allOpen = SessionTrickle.AllOpenAgainAfter(trickle.Sessions, killed);
                settled.Add((allOpen ?? RecoveryWait).TotalSeconds);
                await nodes[victim]!.DisposeAsync();

                nodes[victim] = await StartNodeAsync(victim, ports[victim], redis, cluster);
                await haproxy.WaitForStatusAsync(ShippedHaproxy.ServerName(victim), ShippedHaproxy.IsUp, TimeSpan.FromSeconds(90));
                backUp.Add(Stopwatch.GetElapsedTime(killed).TotalSeconds);
                log(Invariant($"failover: kill {kill}/{options.FailoverKills} of node {victim + 1}: ") +
                    (recovered is { } r ? Invariant($"the first new session opened through HAProxy {r.TotalSeconds:F2} s later") : Invariant($"no new session opened within {RecoveryWait.TotalSeconds:F0} s")) +
                    Invariant($", every new one from {settled[^1]:F2} s (HAProxy marked the node DOWN after {markedDown.TotalSeconds:F1} s); the node was back UP after {backUp[^1]:F1} s"));
            }

            await trickle.DisposeAsync();
            sessions = trickle.Sessions;
            trickle = null;
            // Without a browser or a VNC server the page is not measured (its target row says so), not failed.
            if (ConsoleMeasurable() is { } why)
            {
                log($"failover: console page not measured: {why}");
            }
            else
            {
                console = await MeasureConsoleAsync(nodes, ports, redis, cluster, haproxy);
            }
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or IOException or HttpRequestException or TaskCanceledException)
        {
            // The report's table takes the first line; the log keeps the whole message (a peer's log tail).
            error = exception.Message.Split('\n')[0];
            log($"failover: stopped: {exception.Message}");
        }
        finally
        {
            if (trickle is not null)
            {
                await trickle.DisposeAsync();
                sessions = trickle.Sessions;
            }

            if (haproxy is not null)
            {
                await haproxy.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }

            if (desktop is not null)
            {
                await desktop.DisposeAsync();
            }
        }

        return new FailoverResult(NodeCount, recoveries.Count, [.. recoveries], Percentile.Of(recoveries, 0.5), recoveries.Count == 0 ? 0 : recoveries.Max(),
            sessions.Count(s => s.Opened), sessions.Count(s => !s.Opened), sessions.FirstOrDefault(s => !s.Opened).Error, error)
        {
            BackUpSeconds = [.. backUp],
            AllOpenSeconds = [.. settled],
            AllOpenP50Seconds = Percentile.Of(settled, 0.5),
            AllOpenMaxSeconds = settled.Count == 0 ? 0 : settled.Max(),
            TrickleIntervalMs = TrickleInterval.TotalMilliseconds,
            Console = console,
        };
    }

    private Task<RelayPeer> StartNodeAsync(int index, RelayPorts ports, RedisServer redis, string cluster)
    {
        var environment = new Dictionary<string, string>(options.RelayEnvironment)
        {
            ["Redis__ConnectionString"] = redis.ConnectionString,
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Orleans__SiloName"] = "failover-" + (index + 1).ToString(CultureInfo.InvariantCulture),
            // The bench stops the survivors at the end: a short drain keeps that from adding to the run.
            ["Relay__DrainBudget"] = "00:00:01",
            ["Admin__TokenFile"] = _adminTokenFile,
            ["Tickets__SecretFile"] = _ticketSecretFile,
        };
        return RelayPeer.StartAsync(options.RelayPath, _nodeTokens, logDirectory, "failover-node" + (index + 1).ToString(CultureInfo.InvariantCulture),
            environment, name: "failover node " + (index + 1).ToString(CultureInfo.InvariantCulture), ports: ports);
    }

    /// <summary>Why the console page cannot be measured here (no Chromium, no Xvnc), or null when it can.</summary>
    private static string? ConsoleMeasurable() =>
        !File.Exists(ConsolePageBrowser.ChromiumPath) ? $"no {ConsolePageBrowser.ChromiumPath} (scripts/install-deps.sh installs Debian's chromium)"
        : !File.Exists("/usr/bin/Xvnc") ? "no /usr/bin/Xvnc (tigervnc-standalone-server)"
        : null;

    /// <summary>
    /// The console page opened with a single-use ticket through HAProxy, its node killed with SIGKILL: the seconds until
    /// the page, by itself, is connected on a second session and its canvas shows the desktop again. The ticket is spent
    /// by then, so only the page's resume credential can have opened that session (ConsoleResumeTests checks as much).
    /// </summary>
    private async Task<ConsoleResumeResult> MeasureConsoleAsync(RelayPeer?[] nodes, RelayPorts[] ports, RedisServer redis, string cluster, ShippedHaproxy haproxy)
    {
        var shown = new List<double>();
        try
        {
            await using var browser = await ConsolePageBrowser.LaunchAsync();
            for (var round = 1; round <= options.ConsoleKills; round++)
            {
                var before = await Task.WhenAll(nodes.Select(n => NodeMetrics.SessionsStartedAsync(n!)));
                var ticket = await IssueTicketAsync(nodes.First(n => !n!.Process.HasExited)!);
                await using var page = await browser.OpenAsync(new Uri($"http://127.0.0.1:{haproxy.Port}/console?ticket={Uri.EscapeDataString(ticket)}"));
                if (await page.TimeUntilShownAsync(XvncDesktop.Colour, 1, Stopwatch.GetTimestamp(), RecoveryWait) is null)
                {
                    throw new TimeoutException($"the console page did not show the desktop within {RecoveryWait.TotalSeconds:F0} s of opening");
                }

                var after = await Task.WhenAll(nodes.Select(n => NodeMetrics.SessionsStartedAsync(n!)));
                var victim = Enumerable.Range(0, nodes.Length).MaxBy(i => after[i] - before[i]);
                var killed = Stopwatch.GetTimestamp();
                await nodes[victim]!.Process.KillAsync();
                var back = await page.TimeUntilShownAsync(XvncDesktop.Colour, 2, killed, RecoveryWait);
                shown.Add((back ?? RecoveryWait).TotalSeconds);
                log(Invariant($"failover: console page, kill {round}/{options.ConsoleKills} of node {victim + 1}: ") +
                    (back is { } b ? Invariant($"the page showed the desktop again after {b.TotalSeconds:F2} s") : Invariant($"no desktop within {RecoveryWait.TotalSeconds:F0} s")));

                await nodes[victim]!.DisposeAsync();
                nodes[victim] = await StartNodeAsync(victim, ports[victim], redis, cluster);
                await haproxy.WaitForStatusAsync(ShippedHaproxy.ServerName(victim), ShippedHaproxy.IsUp, TimeSpan.FromSeconds(90));
            }

            return new ConsoleResumeResult([.. shown], Percentile.Of(shown, 0.5), shown.Count == 0 ? 0 : shown.Max(), null);
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or HttpRequestException or TaskCanceledException or Microsoft.Playwright.PlaywrightException)
        {
            log($"failover: console page stopped: {exception.Message}");
            return new ConsoleResumeResult([.. shown], Percentile.Of(shown, 0.5), shown.Count == 0 ? 0 : shown.Max(), exception.Message.Split('\n')[0]);
        }
    }

    /// <summary>A single-use control ticket for the console token, from a node's admin API (POST /api/tickets).</summary>
    private static async Task<string> IssueTicketAsync(RelayPeer node)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://{node.Address}:{node.AdminPort}/api/tickets"))
        {
            Content = JsonContent.Create(new { token = ConsoleToken, singleUse = true, role = "control", user = "bench" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await Http.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/tickets answered {(int)response.StatusCode}: {answer}");
        }

        using var document = JsonDocument.Parse(answer);
        return document.RootElement.GetProperty("ticket").GetString() ?? throw new InvalidOperationException("POST /api/tickets answered no ticket");
    }

    /// <summary>
    /// The node HAProxy sends the trickle to now: the one whose relayed-session count grows. HAProxy's source hash
    /// picks it, and a node back from a kill ramps up over its slow start, so it is asked anew before each kill.
    /// </summary>
    private static async Task<int> CarrierAsync(RelayPeer?[] nodes)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var before = await Task.WhenAll(nodes.Select(n => NodeMetrics.SessionsStartedAsync(n!)));
            await Task.Delay(TimeSpan.FromSeconds(1));
            var after = await Task.WhenAll(nodes.Select(n => NodeMetrics.SessionsStartedAsync(n!)));
            var grown = Enumerable.Range(0, nodes.Length).Select(i => after[i] - before[i]).ToArray();
            var carrier = Array.IndexOf(grown, grown.Max());
            // One node alone: right after a restart HAProxy may still spread the trickle while the ring settles.
            if (grown[carrier] > 0 && grown.Count(g => g > 0) == 1)
            {
                return carrier;
            }
        }

        throw new TimeoutException("no single node carried the trickle through HAProxy for 30 s");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
