using System.Net.Http;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// docs/OPERATIONS.md word for word on this machine: every shell block marked <c>&lt;!-- tested: NAME --&gt;</c> runs
/// as root, unchanged, in a fresh bash with the repository as working directory, against the real /etc, /opt and
/// user database. systemd is not PID 1 here, so <c>systemctl</c> and <c>journalctl</c> are the functions of
/// systemd-shim.sh, which start the installed units as their unit files say (user, environment files, credentials);
/// everything else (install.sh, systemd-sysusers, install, chgrp, tee, openssl, curl) is the real command. The test
/// refuses to run over an existing installation, and removes everything it installed afterwards.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed partial class OperatorStepsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _shimDir = Repo.TempDirectory("shim");
    private readonly Dictionary<string, string> _blocks = TestedBlocks();
    private bool _installed;

    public ValueTask InitializeAsync()
    {
        HostInstall.EnsureClean();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task AbiquoSyncAgainstTheSimulator_AndTicketSecret_WorkAsDocumented()
    {
        _installed = true;
        await RunBlockAsync("abiquo-install");
        var password = "sync-" + Guid.NewGuid().ToString("N")[..16];
        await RunBlockAsync("abiquo-password", stdin: password + "\n");
        Assert.Equal(password, await File.ReadAllTextAsync("/etc/credstore/vnc-relay.abiquo-password"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode("/etc/credstore/vnc-relay.abiquo-password"));

        await RunBlockAsync("abiquo-settings");
        await WaitReadyAsync();
        await WaitForFirstSyncAsync();

        var check = await RunBlockAsync("abiquo-check");
        Assert.Contains("Token sources: Abiquo sync from http://127.0.0.1:9080/api as admin every", check, StringComparison.Ordinal);
        using (var status = JsonDocument.Parse(check[check.IndexOf('{', StringComparison.Ordinal)..]))
        {
            Assert.Equal(JsonValueKind.String, status.RootElement.GetProperty("lastSuccessAt").ValueKind);
            Assert.True(status.RootElement.GetProperty("tokens").GetInt32() > 0, $"the sync wrote no token:\n{check}");
        }

        Assert.DoesNotContain(password, await File.ReadAllTextAsync(NodeLog), StringComparison.Ordinal);

        await RunBlockAsync("ticket-secret");
        var secret = "/etc/vnc-relay/ticket-secret";
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(secret));
        Assert.Equal($"0:{HostInstall.GroupId("vnc-relay")}", (await DeployCommands.RunAsync("stat", "stat", ["-c", "%u:%g", secret])).Output.Trim());
        // The node's log holds its earlier start too, whose start-up rehearsal signed its tickets with the secret then.
        var before = TicketKeyLines().Count;
        await RunBlockAsync("ticket-setting");
        await WaitReadyAsync();
        // Embedded mode keeps tokens in memory: the restarted node has them again after its first sync.
        await WaitForFirstSyncAsync();
        // Signing reads the secret as the node's own user, through the group vnc-relay.
        var token = await SyncedTokenAsync(password);
        var first = await IssueTicketKeyIdAsync(token);
        Assert.Contains($"signing with key {first}", Assert.Single(TicketKeyLines().Skip(before)), StringComparison.Ordinal);
        // The installed node rehearses as shipped (tickets only): relayed sessions, no refusal of its own sessions.
        var log = await File.ReadAllTextAsync(NodeLog);
        Assert.Matches(@"Start-up rehearsal: [1-9]\d* sessions relayed", log);
        Assert.DoesNotContain("Start-up rehearsal stopped", log, StringComparison.Ordinal);

        await RunBlockAsync("ticket-rotate");
        await Task.Delay(TimeSpan.FromSeconds(3)); // Tickets:ReloadInterval is 2 s
        var second = await IssueTicketKeyIdAsync(token);
        Assert.NotEqual(first, second);
        // The node's log is written by a background worker: the reload's line may land just after the new key signs.
        await Eventually.HoldsAsync(() => TicketKeyLines().Count == before + 2, TimeSpan.FromSeconds(5), "the node logs the rotated ticket keys");
        Assert.Equal(before + 2, TicketKeyLines().Count);

        // journalctl -p warning as the docs show it: the node's warnings, none of its information lines.
        var warnings = await RunShellAsync("journalctl -u vnc-relay -p warning");
        Assert.Contains("No Redis configured", warnings, StringComparison.Ordinal);
        Assert.DoesNotContain("Token sources", warnings, StringComparison.Ordinal);

        var drain = await RunShellAsync("sudo /opt/vnc-relay/vnc-relay drain --token-file /etc/credstore/vnc-relay.admin-token");
        Assert.Contains("drain", drain, StringComparison.OrdinalIgnoreCase);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.HoldsAsync(async () => (int)(await http.GetAsync(new Uri("http://127.0.0.1:8082/readyz"))).StatusCode == 503,
            TimeSpan.FromSeconds(10), "/readyz answers 503 after the documented drain command");
    }

    public async ValueTask DisposeAsync()
    {
        if (_installed)
        {
            await RunShellAsync("systemctl stop vnc-relay abiquo-simulator", check: false);
            await HostInstall.RemoveAsync();
        }

        Directory.Delete(_shimDir, recursive: true);
    }

    private string NodeLog => Path.Combine(_shimDir, "vnc-relay.log");

    private List<string> TicketKeyLines() =>
        File.Exists(NodeLog) ? File.ReadAllLines(NodeLog).Where(line => line.Contains("Ticket keys loaded", StringComparison.Ordinal)).ToList() : [];

    private Task<string> RunBlockAsync(string name, string? stdin = null) =>
        _blocks.TryGetValue(name, out var block)
            ? RunShellAsync(block, stdin: stdin)
            : throw new InvalidOperationException($"docs/OPERATIONS.md has no block marked <!-- tested: {name} -->");

    /// <summary>Runs <paramref name="commands"/> in bash with the shim loaded; fails the test on a non-zero exit.</summary>
    private async Task<string> RunShellAsync(string commands, string? stdin = null, bool check = true)
    {
        var script = Path.Combine(_shimDir, $"step-{Guid.NewGuid():N}.sh");
        var shim = Path.Combine(Repo.Root, "tests", "OrleansVncCluster.IntegrationTests", "Deploy", "systemd-shim.sh");
        await File.WriteAllTextAsync(script, $"set -eo pipefail\nSHIM_DIR='{_shimDir}'\n. '{shim}'\n{commands}\n");
        await using var process = ManagedProcess.Start("operator-step", "bash", [script]);
        if (stdin is not null)
        {
            await process.WriteInputAndCloseAsync(stdin);
        }

        Assert.True(await process.WaitForExitAsync(Timeout), $"step did not finish within {Timeout.TotalSeconds:F0} s:\n{commands}\n{process.Tail()}");
        if (check)
        {
            Assert.True(process.ExitCode == 0, $"step failed with {process.ExitCode}:\n{commands}\n--- output:\n{process.Tail()}\n--- node log:\n{Tail(NodeLog)}");
        }

        return process.Output;
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.HoldsAsync(async () => (await http.GetAsync(new Uri("http://127.0.0.1:6080/readyz"))).IsSuccessStatusCode, Timeout,
            $"the installed node answers /readyz on 6080 (log {NodeLog}:\n{Tail(NodeLog)})");
    }

    private async Task WaitForFirstSyncAsync()
    {
        var token = (await File.ReadAllTextAsync("/etc/credstore/vnc-relay.admin-token")).Trim();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        await Eventually.HoldsAsync(async () =>
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri("http://127.0.0.1:8082/api/sync")));
            return status.RootElement.GetProperty("lastSuccessAt").ValueKind == JsonValueKind.String;
        }, Timeout, $"the first sync against the simulator succeeds (node log:\n{Tail(NodeLog)}\n--- simulator log:\n{Tail(Path.Combine(_shimDir, "abiquo-simulator.log"))})");
    }

    /// <summary>The console token of a VM the simulator shows with a console: md5 of "vdrpIP:vdrpPort", as Abiquo computes it.</summary>
    private static async Task<string> SyncedTokenAsync(string password)
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9080") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"admin:{password}")));
        using var vms = JsonDocument.Parse(await http.GetStringAsync(new Uri("/_sim/vms", UriKind.Relative)));
        var vm = vms.RootElement.EnumerateArray().First(v => v.TryGetProperty("vdrpPort", out var port) && port.ValueKind == JsonValueKind.Number
            && v.TryGetProperty("vdrpIP", out var ip) && ip.ValueKind == JsonValueKind.String && v.GetProperty("state").GetString() == "ON");
        return Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{vm.GetProperty("vdrpIP").GetString()}:{vm.GetProperty("vdrpPort").GetInt32()}")));
    }

    /// <summary>POST /api/tickets with the installed admin token; the key id the ticket was signed with.</summary>
    private static async Task<string> IssueTicketKeyIdAsync(string token)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            (await File.ReadAllTextAsync("/etc/credstore/vnc-relay.admin-token")).Trim());
        using var response = await http.PostAsync(new Uri("http://127.0.0.1:8082/api/tickets"),
            new StringContent($$"""{"token": "{{token}}", "ttlSeconds": 60}""", System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /api/tickets answered {(int)response.StatusCode}: {body}");
        using var ticket = JsonDocument.Parse(body);
        return ticket.RootElement.GetProperty("keyId").GetString()!;
    }

    private static string Tail(string path) =>
        File.Exists(path) ? string.Join('\n', File.ReadAllLines(path).TakeLast(30)) : "(no log)";

    /// <summary>Each ```sh block right after a <c>&lt;!-- tested: NAME --&gt;</c> line of docs/OPERATIONS.md.</summary>
    private static Dictionary<string, string> TestedBlocks()
    {
        var text = File.ReadAllText(Path.Combine(Repo.Root, "docs", "OPERATIONS.md"));
        return TestedBlock().Matches(text).ToDictionary(match => match.Groups[1].Value, match => match.Groups[2].Value, StringComparer.Ordinal);
    }

    [GeneratedRegex(@"<!-- tested: ([a-z-]+) -->\n```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex TestedBlock();
}

/// <summary>What a vnc-relay installation puts on a host, and taking it away again.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class HostInstall
{
    private static readonly string[] Paths =
    [
        "/opt/vnc-relay", "/opt/vnc-relay.previous", "/opt/abiquo-simulator", "/opt/abiquo-simulator.previous",
        "/etc/systemd/system/vnc-relay.service", "/etc/systemd/system/abiquo-simulator.service", "/lib/systemd/system/vnc-relay.service",
        "/etc/sysusers.d/vnc-relay.conf", "/usr/lib/sysusers.d/vnc-relay.conf", "/etc/vnc-relay",
    ];

    /// <summary>Fails, naming what is in the way, when this host already has a vnc-relay installed or its ports taken.</summary>
    public static void EnsureClean()
    {
        Assert.True(Environment.UserName == "root", "this test installs onto the machine and must run as root");
        var present = Paths.Where(path => File.Exists(path) || Directory.Exists(path)).ToList();
        Assert.True(present.Count == 0,
            $"a vnc-relay is installed on this machine ({string.Join(", ", present)}); the test installs its own and removes it afterwards: remove it first (apt purge vnc-relay, or the paths)");
        foreach (var port in new[] { 6080, 8081, 8082, 9080, 11111 })
        {
            using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, port);
            try
            {
                probe.Start();
            }
            catch (System.Net.Sockets.SocketException)
            {
                Assert.Fail($"port {port} is taken on this machine; the installed units listen there (stop the other process: ss -ltnp 'sport = :{port}')");
            }
        }
    }

    /// <summary>The id of a group of this host's /etc/group.</summary>
    public static string GroupId(string name) =>
        File.ReadAllLines("/etc/group").Select(line => line.Split(':')).Single(fields => fields[0] == name)[2];

    /// <summary>Removes what <see cref="EnsureClean"/> found absent before the test, and the vnc-relay account.</summary>
    public static async Task RemoveAsync()
    {
        foreach (var path in Paths)
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }

        if (Directory.Exists("/etc/credstore"))
        {
            foreach (var file in Directory.EnumerateFiles("/etc/credstore", "vnc-relay.*"))
            {
                File.Delete(file);
            }
        }

        await DeployCommands.RunAsync("userdel", "userdel", ["vnc-relay"]);
        await DeployCommands.RunAsync("groupdel", "groupdel", ["vnc-relay"]);
    }
}
