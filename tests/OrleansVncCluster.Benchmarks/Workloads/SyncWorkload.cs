using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// A sync of N simulated VMs from the Abiquo simulator into a node's token grains, with session set-up measured
/// meanwhile. Each size gets a fresh node whose first sync saw an empty inventory; the simulator is then restarted with
/// N VMs on the same port and a sync is asked for (POST /api/sync), so the measured sync writes every token while
/// sessions keep opening against a token from the node's token file.
/// </summary>
internal sealed class SyncWorkload(BenchOptions options, TargetSet targets, string workDirectory, string logDirectory, Action<string> log)
{
    private static readonly TimeSpan SyncWait = TimeSpan.FromMinutes(3);

    public async Task<List<SyncResult>> RunAsync()
    {
        if (options.SimulatorPath is not { } simulator || !File.Exists(simulator))
        {
            return NotAvailable($"not yet available: no Abiquo simulator at {options.SimulatorPath ?? "(none given)"}");
        }

        var results = new List<SyncResult>();
        foreach (var vms in options.SyncVms)
        {
            var result = await RunOneAsync(simulator, vms);
            results.Add(result);
            if (!result.Measured)
            {
                // The node cannot sync at all: the other sizes would say the same.
                results.AddRange(options.SyncVms.Skip(results.Count).Select(other => result with { Vms = other }));
                break;
            }
        }

        return results;
    }

    private List<SyncResult> NotAvailable(string reason)
    {
        log($"sync: {reason}");
        return [.. options.SyncVms.Select(vms => new SyncResult(vms, false, reason, null, null, null, null))];
    }

    private async Task<SyncResult> RunOneAsync(string simulator, int vms)
    {
        var password = Path.Combine(workDirectory, "abiquo-password");
        var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var adminTokenFile = Path.Combine(workDirectory, "admin-token");
        await File.WriteAllTextAsync(password, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) + "\n");
        await File.WriteAllTextAsync(adminTokenFile, adminToken + "\n");
        var simulatorPort = FreePorts.Next();
        var tokens = TokenFiles.Write(Path.Combine(workDirectory, "tokens-sync.cfg"), targets.Ports);

        var empty = await StartSimulatorAsync(simulator, simulatorPort, 0, password, $"abiquo-simulator-empty-{vms}");
        PeerProcess? full = null;
        RelayPeer? relay = null;
        try
        {
            var environment = new Dictionary<string, string>(options.RelayEnvironment)
            {
                ["Abiquo__ApiUrl"] = $"http://127.0.0.1:{simulatorPort}/api",
                ["Abiquo__User"] = "admin",
                ["Abiquo__PasswordFile"] = password,
                // Only the syncs the bench asks for: the measured one must not race a timer-driven one.
                ["Abiquo__SyncInterval"] = "01:00:00",
                ["Admin__TokenFile"] = adminTokenFile,
            };
            relay = await RelayPeer.StartAsync(options.RelayPath, tokens, logDirectory, $"relay-sync-{vms}", environment);
            using var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{relay.AdminPort}/"),
                Timeout = SyncWait,
            };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);

            using (var probe = await admin.GetAsync(new Uri("api/sync", UriKind.Relative)))
            {
                if (probe.StatusCode == HttpStatusCode.NotFound)
                {
                    return Unavailable(vms, "not yet available: the node does not serve /api/sync (the Abiquo sync is not wired into the node)");
                }
            }

            if (await WaitForFirstSyncAsync(admin) is { } problem)
            {
                return Unavailable(vms, $"the node's first sync (empty inventory) did not succeed: {problem}");
            }

            // A fresh node runs tier-0 JIT code for a while: warm it with as many sessions as are measured, or the
            // baseline would be the JIT's and the during-sync figure would look better than it is.
            var baseline = await SetupLatency.RunAsync(relay.Name, "idle baseline", relay.Endpoint, _ => TargetNames.Banner,
                options.SetupSessions, options.SetupConcurrency, options.SetupSessions);
            log($"sync {vms:N0}: idle set-up p99 {baseline.P99Ms:F2} ms");

            await empty.DisposeAsync();
            full = await StartSimulatorAsync(simulator, simulatorPort, vms, password, $"abiquo-simulator-{vms}");

            using var stopLoad = new CancellationTokenSource();
            var load = SetupLatency.RunUntilAsync(relay.Name, "during sync", relay.Endpoint, _ => TargetNames.Banner, options.SetupConcurrency, stopLoad.Token);
            var relayCpu = relay.TreeCpuSeconds();
            var simulatorCpu = ProcFs.TreeCpuSeconds(full.Pid);
            var clock = Stopwatch.StartNew();
            string body;
            HttpStatusCode status;
            using (var response = await admin.PostAsync(new Uri("api/sync", UriKind.Relative), content: null))
            {
                status = response.StatusCode;
                body = await response.Content.ReadAsStringAsync();
            }

            var wall = clock.Elapsed.TotalSeconds;
            relayCpu = relay.TreeCpuSeconds() - relayCpu;
            simulatorCpu = ProcFs.TreeCpuSeconds(full.Pid) - simulatorCpu;
            await stopLoad.CancelAsync();
            var during = await load;
            if (status != HttpStatusCode.OK)
            {
                return new SyncResult(vms, true, $"POST /api/sync answered {(int)status}: {Shorten(body)}", null, null, during, baseline)
                {
                    RelayCpuSeconds = relayCpu,
                    SimulatorCpuSeconds = simulatorCpu,
                };
            }

            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var error = root.TryGetProperty("lastError", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            var count = root.TryGetProperty("tokens", out var t) && t.TryGetInt64(out var n) ? n : (long?)null;
            var duration = root.TryGetProperty("lastDuration", out var d) && d.ValueKind == JsonValueKind.String
                && TimeSpan.TryParse(d.GetString(), CultureInfo.InvariantCulture, out var span) ? span.TotalSeconds : wall;
            var verdict = error is null ? "measured" : $"sync error: {Shorten(error)}";
            log($"sync {vms:N0}: {duration:F1} s (POST answered after {wall:F1} s), {count:N0} tokens, set-up p99 during {during.P99Ms:F2} ms over {during.Succeeded} sessions; CPU: node {relayCpu:F1} s, simulator {simulatorCpu:F1} s{(error is null ? "" : $"; error {error}")}");
            return new SyncResult(vms, true, verdict, duration, count, during, baseline)
            {
                RelayCpuSeconds = relayCpu,
                SimulatorCpuSeconds = simulatorCpu,
            };
        }
        finally
        {
            if (relay is not null)
            {
                await relay.DisposeAsync();
            }

            if (full is not null)
            {
                await full.DisposeAsync();
            }

            await empty.DisposeAsync();
        }
    }

    private SyncResult Unavailable(int vms, string reason)
    {
        log($"sync: {reason}");
        return new SyncResult(vms, false, reason, null, null, null, null);
    }

    private async Task<PeerProcess> StartSimulatorAsync(string simulator, int port, int vms, string password, string logName)
    {
        var process = PeerProcess.Start("abiquo-simulator", simulator,
            ["--urls", $"http://127.0.0.1:{port}", "--vms", vms.ToString(CultureInfo.InvariantCulture), "--seed", "1", "--password-file", password],
            Path.Combine(logDirectory, logName + ".log"));
        try
        {
            // Generating 100,000 VMs takes a while on a busy machine.
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(120));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return process;
    }

    /// <summary>Waits for the sync the node runs at start-up; returns why it did not succeed, or null.</summary>
    private static async Task<string?> WaitForFirstSyncAsync(HttpClient admin)
    {
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            using var response = await admin.GetAsync(new Uri("api/sync", UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            last = $"{(int)response.StatusCode}: {Shorten(body)}";
            if (response.IsSuccessStatusCode)
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.TryGetProperty("lastSuccessAt", out var success) && success.ValueKind == JsonValueKind.String)
                {
                    return null;
                }
            }

            await Task.Delay(250);
        }

        return $"no successful sync within 90 s (last status {last})";
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
