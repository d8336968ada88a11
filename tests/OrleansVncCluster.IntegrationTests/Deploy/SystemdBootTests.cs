using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.Versioning;
using OrleansVncCluster.IntegrationTests.Cli;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// A real systemd, booted in a container (systemd-nspawn on this machine's own /usr, with a throw-away root in memory
/// and the host's network), with the node installed by deploy/install.sh and started through the shipped unit: what
/// the offline checks (SystemdInstallTests, SystemdNotifyTests) cannot show. The container boots basic.target only, so
/// nothing of the host's (Redis, HAProxy) starts in it, and it has no CAP_NET_ADMIN, so it cannot touch the host's
/// interfaces.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class BootedSystemd : IAsyncLifetime
{
    private ManagedProcess? _nspawn;

    public string Machine { get; } = "ovc-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The container's PID 1 (systemd), as this machine numbers it.</summary>
    public int InitPid { get; private set; }

    public TcpTarget Echo { get; } = TcpTarget.Echo();
    public string Token { get; } = "systemd-" + Guid.NewGuid().ToString("N")[..12];
    public int Port { get; } = Ports.Free();
    public int AdminPort { get; } = Ports.Free();
    public static TimeSpan DrainBudget { get; } = TimeSpan.FromSeconds(4);

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/websockify?token={Token}");

    public async ValueTask InitializeAsync()
    {
        _nspawn = ManagedProcess.Start("systemd-nspawn", "systemd-nspawn",
        [
            "--directory=/", "--volatile=yes", "--register=no", "--keep-unit", $"--machine={Machine}", "--console=pipe",
            $"--bind-ro={Repo.Root}", "--boot",
            "systemd.unit=basic.target", "systemd.mask=systemd-firstboot.service",
            "systemd.mask=redis-server.service", "systemd.mask=redis-sentinel.service", "systemd.mask=haproxy.service",
        ]);
        // nspawn's first child is a helper that clones the container and leaves: the container's PID 1 is the child
        // whose name is systemd, read again on each poll.
        var state = "";
        await Eventually.HoldsAsync(async () =>
        {
            if (_nspawn.HasExited)
            {
                throw new InvalidOperationException($"systemd-nspawn exited with {_nspawn.ExitCode}:\n{_nspawn.Tail()}");
            }

            InitPid = File.ReadAllText($"/proc/{_nspawn.Pid}/task/{_nspawn.Pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(pid => int.Parse(pid, CultureInfo.InvariantCulture))
                .FirstOrDefault(pid => File.ReadAllText($"/proc/{pid}/comm").Trim() == "systemd");
            state = InitPid == 0 ? "no systemd yet" : (await InsideAsync("systemctl", "is-system-running")).Output.Trim();
            return state is "running" or "degraded";
        }, TimeSpan.FromSeconds(90), $"the container's systemd finishes booting basic.target (last state: {state})");

        var install = await InsideAsync(Path.Combine(Repo.Root, "deploy", "install.sh"));
        Assert.True(install.ExitCode == 0, $"install.sh inside the container failed:\n{install.Output}");
        await WriteInsideAsync("/etc/vnc-relay/tokens.cfg", $"{Token}: 127.0.0.1:{Echo.Port}");
        await WriteInsideAsync("/etc/vnc-relay/vnc-relay.env",
            $"Relay__Listen=127.0.0.1:{Port}",
            $"Relay__AdminListen=127.0.0.1:{AdminPort}",
            $"Relay__AgentListen=127.0.0.1:{Ports.Free()}",
            $"Orleans__Endpoints__SiloPort={Ports.Free()}",
            $"Relay__DrainBudget={DrainBudget:c}",
            "Tokens__Files__0=/etc/vnc-relay/tokens.cfg",
            "Limits__MaxFailedTokens=0");
    }

    /// <summary>Runs a command inside the container (all its namespaces), to its end.</summary>
    public Task<Deploy.CommandResult> InsideAsync(params string[] command) =>
        DeployCommands.RunAsync("nspawn-exec", "nsenter", ["-t", InitPid.ToString(CultureInfo.InvariantCulture), "-a", .. command], timeout: TimeSpan.FromSeconds(150));

    /// <summary>One property of the node's unit (systemctl show -p NAME --value).</summary>
    public async Task<string> UnitPropertyAsync(string name) =>
        (await InsideAsync("systemctl", "show", "vnc-relay.service", "-p", name, "--value")).Output.Trim();

    public async ValueTask DisposeAsync()
    {
        if (_nspawn is not null)
        {
            // SIGTERM to systemd-nspawn halts the container (its systemd stops every unit); a container still up
            // after that is ended through its PID 1, which takes every process of its PID namespace with it.
            await _nspawn.DisposeAsync();
            if (InitPid != 0)
            {
                await DetachedProcesses.StopAsync(InitPid, TimeSpan.FromSeconds(1));
            }
        }

        await Echo.DisposeAsync();
    }

    private async Task WriteInsideAsync(string path, params string[] lines)
    {
        string[] command = ["sh", "-c", $"printf '%s\\n' \"$@\" > {path}", "sh", .. lines];
        var write = await InsideAsync(command);
        Assert.True(write.ExitCode == 0, $"writing {path} inside the container failed:\n{write.Output}");
    }
}

/// <summary>The shipped vnc-relay.service under a real systemd: notify, hardening as it runs, and drain on stop.</summary>
[SupportedOSPlatform("linux")]
[TestMethodOrderer(typeof(DeclarationOrder))]
[Collection(MachineWide.Name)]
public sealed class SystemdBootTests(BootedSystemd systemd) : IClassFixture<BootedSystemd>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_ReturnsOnceTheNodeNotifiedReady_AndItServesAtThatMoment()
    {
        var clock = Stopwatch.StartNew();
        // Type=notify: `systemctl start` returns when the node sends READY=1, or fails after TimeoutStartSec (120 s).
        var start = await systemd.InsideAsync("timeout", "100", "systemctl", "start", "vnc-relay.service");
        clock.Stop();
        var journal = (await systemd.InsideAsync("journalctl", "-u", "vnc-relay.service", "--no-pager", "-n", "30")).Output;

        Assert.True(start.ExitCode == 0, $"systemctl start vnc-relay exited with {start.ExitCode} after {clock.Elapsed.TotalSeconds:F0} s (no READY=1?):\n{start.Output}\n{journal}");
        Assert.Equal("active", await systemd.UnitPropertyAsync("ActiveState"));
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var ready = await http.GetAsync(new Uri($"http://127.0.0.1:{systemd.AdminPort}/healthz"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        TestContext.Current.TestOutputHelper?.WriteLine($"systemctl start returned after {clock.ElapsedMilliseconds} ms, with the node serving");
    }

    [Fact]
    public async Task Node_RunsAsTheVncRelayUser_WithoutCapabilities_NoNewPrivileges_Seccomp_AndAReadOnlySystem()
    {
        var pid = await systemd.UnitPropertyAsync("MainPID");
        var vncRelayUid = (await systemd.InsideAsync("id", "-u", "vnc-relay")).Output.Trim();
        var status = (await systemd.InsideAsync("cat", $"/proc/{pid}/status")).Output;
        var mounts = (await systemd.InsideAsync("cat", $"/proc/{pid}/mountinfo")).Output;
        string Field(string name) => status.Split('\n').Single(line => line.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

        Assert.True(pid != "0", "vnc-relay.service has no main process");
        Assert.NotEqual("0", vncRelayUid);
        Assert.All(Field("Uid").Split('\t', StringSplitOptions.RemoveEmptyEntries), uid => Assert.Equal(vncRelayUid, uid));
        Assert.Equal("0000000000000000", Field("CapEff"));
        Assert.Equal("0000000000000000", Field("CapBnd"));
        Assert.Equal("1", Field("NoNewPrivs"));
        Assert.Equal("2", Field("Seccomp"));
        var root = mounts.Split('\n').Last(line => line.Split(' ') is [_, _, _, _, "/", ..]);
        Assert.Contains(" ro,", root, StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"uid {Field("Uid")}, CapEff {Field("CapEff")}, root mount: {root}");
    }

    [Fact]
    public async Task AdminToken_ReachesTheNodeThroughLoadCredential()
    {
        var token = (await systemd.InsideAsync("cat", "/etc/credstore/vnc-relay.admin-token")).Output.Trim();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{systemd.AdminPort}") };

        using var without = await http.GetAsync(new Uri("/api/sessions", UriKind.Relative));
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var with = await http.GetAsync(new Uri("/api/sessions", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Fact]
    public async Task Stop_DrainsLiveSessions_RefusesNewOnes_Closes1012AfterTheBudget_AndEndsCleanly()
    {
        await using var live = await ConsoleClient.OpenEchoingAsync(systemd.WebSocketUri, "the node under systemd relays a session");
        var closing = live.ReadUntilCloseAsync(TimeSpan.FromSeconds(40));
        var clock = Stopwatch.StartNew();

        var stop = await systemd.InsideAsync("systemctl", "stop", "--no-block", "vnc-relay.service");
        Assert.True(stop.ExitCode == 0, stop.Output);
        (WebSocketCloseStatus? Status, string? Reason) refused = default;
        await Eventually.HoldsAsync(async () =>
        {
            await using var late = await ConsoleClient.ConnectAsync(systemd.WebSocketUri);
            refused = await late.ReadUntilCloseAsync(Timeout);
            return refused.Status == (WebSocketCloseStatus)1013;
        }, Timeout, $"a new session is refused with 1013 while the node drains (last: {refused.Status} {refused.Reason})");
        var stateDuringDrain = await systemd.UnitPropertyAsync("ActiveState");
        var (status, reason) = await closing;
        var drained = clock.Elapsed;
        string active = "";
        await Eventually.HoldsAsync(async () => (active = await systemd.UnitPropertyAsync("ActiveState")) == "inactive",
            TimeSpan.FromSeconds(60), $"vnc-relay.service is inactive after the drain (still {active})");

        Assert.Equal("deactivating", stateDuringDrain);
        Assert.Equal((WebSocketCloseStatus)1012, status);
        Assert.Equal("relay node is draining: reconnect", reason);
        Assert.InRange(drained, BootedSystemd.DrainBudget - TimeSpan.FromSeconds(1), BootedSystemd.DrainBudget + TimeSpan.FromSeconds(15));
        Assert.Equal("success", await systemd.UnitPropertyAsync("Result"));
        TestContext.Current.TestOutputHelper?.WriteLine($"live session closed 1012 after {drained.TotalMilliseconds:F0} ms of drain (budget {BootedSystemd.DrainBudget.TotalSeconds} s)");
    }
}
