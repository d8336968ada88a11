using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// docs/OPERATIONS.md, "Adding a relay host without dropping sessions", against the shipped haproxy.cfg in
/// master-worker mode (as Debian's unit runs it) in front of three relay nodes with live sessions: a fourth node goes
/// into the empty slot relay4 through the runtime API, the live sessions carry on, new sessions reach the fourth node,
/// and after the drop-in's state save and a reload the slot keeps its address and the sessions still flow.
/// </summary>
[Collection(MachineWide.Name)]
public sealed class AddRelayHostTests : IAsyncLifetime
{
    private const string Token = "add-host-token";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TcpTarget _echo = TcpTarget.Echo();
    private readonly List<RelayNodeProcess> _nodes = [];
    private readonly List<ConsoleClient> _sessions = [];
    private readonly string _directory = Repo.TempDirectory("add-host");
    private HaproxyServer? _haproxy;

    private HaproxyServer Haproxy => _haproxy!;

    private string Socket => Path.Combine(_directory, "admin.sock");

    private string StateFile => Path.Combine(_directory, "server-state");

    public async ValueTask InitializeAsync()
    {
        var tokens = TokenFiles.Write(_directory, (Token, $"127.0.0.1:{_echo.Port}"));
        for (var i = 1; i <= 4; i++)
        {
            _nodes.Add(await RelayNodeProcess.StartAsync(new RelayNodeSettings { TokenFile = tokens, SiloName = $"add-host-{i}" }));
        }

        // The install.sh default: a state file holding only the format version, so the first start reads it quietly.
        await File.WriteAllTextAsync(StateFile, "1\n");
        _haproxy = await HaproxyServer.StartAsync(_nodes[..3], masterWorker: true, new Dictionary<string, string?>
        {
            ["HAPROXY_RUNTIME_SOCKET"] = Socket,
            ["HAPROXY_STATE_FILE"] = StateFile,
        });
    }

    [Fact]
    public async Task FourthNode_JoinsARunningBalancer_LiveSessionsCarryOn_AndAReloadKeepsIt()
    {
        Assert.Contains("MAINT", await Haproxy.ServerStatusAsync("relay4"), StringComparison.Ordinal);
        for (var i = 0; i < 6; i++)
        {
            _sessions.Add(await ConsoleClient.OpenEchoingAsync(Haproxy.WebSocketUri(Token), $"session {i} through HAProxy", Source(i)));
        }

        var fourth = _nodes[3];
        var commands = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "docs", "OPERATIONS.md"));
        Assert.Contains("set server be_relay/relay4 addr", commands, StringComparison.Ordinal);
        await RuntimeAsync($"set server be_relay/relay4 addr 127.0.0.1 port {fourth.Port}");
        await RuntimeAsync($"set server be_relay/relay4 agent-port {fourth.AgentPort}");
        await RuntimeAsync("set server be_relay/relay4 state ready");
        await Eventually.HoldsAsync(async () => (await Haproxy.ServerStatusAsync("relay4")).StartsWith("UP", StringComparison.Ordinal), Timeout,
            "relay4 is UP after the runtime API gave it the fourth node's address");

        await AllSessionsEchoAsync("after relay4 joined");
        Assert.Equal(0, await ActiveSessionsAsync(fourth));

        // New sessions reach the fourth node: with the three others drained it is the only one left to choose.
        await DrainFirstThreeAsync("drain");
        _sessions.Add(await ConsoleClient.OpenEchoingAsync(Haproxy.WebSocketUri(Token), "a new session through HAProxy", Source(20)));
        Assert.Equal(1, await ActiveSessionsAsync(fourth));
        await DrainFirstThreeAsync("ready");

        // What the drop-in's ExecReload does before it signals the master: save the state, then reload.
        await SaveStateAsInTheDropInAsync();
        var oldWorker = WorkerPid(await RuntimeAsync("show info"));
        await Haproxy.ReloadAsync();
        // The old worker keeps accepting on the shared listeners (runtime socket included) until it has soft-stopped,
        // a moment after the master's "Loading success.": a drain sent to it would not reach the new worker.
        await Eventually.HoldsAsync(async () =>
        {
            // Five answers in a row: while both workers accept, any one of them could come from either.
            for (var i = 0; i < 5; i++)
            {
                if (WorkerPid(await RuntimeAsync("show info")) == oldWorker)
                {
                    return false;
                }
            }

            return true;
        }, Timeout, "only the new worker answers the runtime API");

        var state = await RuntimeAsync("show servers state be_relay");
        var relay4 = state.Split('\n').Select(line => line.Split(' ')).Single(fields => fields.Length > 4 && fields[3] == "relay4");
        Assert.Equal("127.0.0.1", relay4[4]);
        Assert.Contains(fourth.Port.ToString(CultureInfo.InvariantCulture), relay4);
        await Eventually.HoldsAsync(async () => (await Haproxy.ServerStatusAsync("relay4")).StartsWith("UP", StringComparison.Ordinal), Timeout,
            "relay4 is still UP with its address after the reload");
        await AllSessionsEchoAsync("after the reload");

        await DrainFirstThreeAsync("drain");
        _sessions.Add(await ConsoleClient.OpenEchoingAsync(Haproxy.WebSocketUri(Token), "a new session after the reload", Source(21)));
        Assert.Equal(2, await ActiveSessionsAsync(fourth));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions)
        {
            await session.DisposeAsync();
        }

        if (_haproxy is not null)
        {
            await _haproxy.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await _echo.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A loopback address of its own per client, so balance source treats them as different clients.</summary>
    private static IPAddress Source(int index) => IPAddress.Parse($"127.0.0.{10 + index}");

    private async Task AllSessionsEchoAsync(string when)
    {
        for (var i = 0; i < _sessions.Count; i++)
        {
            Assert.True(await _sessions[i].EchoesAsync(), $"session {i} stopped echoing {when}");
        }
    }

    private async Task DrainFirstThreeAsync(string state)
    {
        for (var i = 1; i <= 3; i++)
        {
            await RuntimeAsync($"set server be_relay/relay{i} state {state}");
        }
    }

    /// <summary>The "Pid:" line of the runtime API's "show info": which worker answered.</summary>
    private static string WorkerPid(string info) =>
        info.Split('\n').Single(line => line.StartsWith("Pid:", StringComparison.Ordinal)).Trim();

    /// <summary>The node's vnc_relay_active_sessions gauge.</summary>
    private static async Task<int> ActiveSessionsAsync(RelayNodeProcess node) =>
        (int)(await PrometheusText.ScrapeAsync(node)).Value("vnc_relay_active_sessions");

    /// <summary>Runs the state-saving ExecReload= line of deploy/systemd/haproxy.service.d/vnc-relay.conf as systemd would.</summary>
    private async Task SaveStateAsInTheDropInAsync()
    {
        var dropIn = await File.ReadAllLinesAsync(Path.Combine(Repo.Root, "deploy", "systemd", "haproxy.service.d", "vnc-relay.conf"));
        var save = dropIn.Single(line => line.StartsWith("ExecReload=", StringComparison.Ordinal) && line.Contains("show servers state", StringComparison.Ordinal));
        // systemd turns $$ into $ before the shell sees the command.
        var command = save["ExecReload=/bin/sh -c ".Length..].Trim('\'').Replace("$$", "$", StringComparison.Ordinal);
        var result = await DeployCommands.RunAsync("save-state", "/bin/sh", ["-c", command],
            new Dictionary<string, string?> { ["HAPROXY_RUNTIME_SOCKET"] = Socket, ["HAPROXY_STATE_FILE"] = StateFile });
        Assert.True(result.ExitCode == 0, $"the drop-in's state save failed:\n{result.Output}");
        Assert.Contains("relay4 127.0.0.1", await File.ReadAllTextAsync(StateFile), StringComparison.Ordinal);
    }

    /// <summary>One command on HAProxy's runtime API (the stats socket); its answer. "Unknown command" fails the test.</summary>
    private async Task<string> RuntimeAsync(string command)
    {
        using var socket = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket));
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"));
        var answer = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var text = answer.ToString();
        Assert.DoesNotContain("Unknown command", text, StringComparison.Ordinal);
        Assert.DoesNotContain("No such", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Require", text, StringComparison.Ordinal);
        return text;
    }
}
