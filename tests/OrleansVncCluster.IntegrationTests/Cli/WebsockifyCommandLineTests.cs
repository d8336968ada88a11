using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;

namespace OrleansVncCluster.IntegrationTests.Cli;

/// <summary>
/// websockify's command line run for real: the published node started the way legacy init scripts and operators start
/// websockify, each checked by what it does (a session relays, the daemon is where its PID says, pings arrive, files are
/// served), not by how the arguments parse. Every process started is stopped by its PID.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WebsockifyCommandLineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly IPAddress OtherLoopback = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task DashD_WithABarePort_AsInTheLegacyGuide_DetachesANodeThatRelaysOnEveryAddress()
    {
        await using var echo = TcpTarget.Echo();
        var token = "daemon-" + Guid.NewGuid().ToString("N")[..12];
        var config = TokenFiles.Write(Repo.TempDirectory("daemon"), (token, $"127.0.0.1:{echo.Port}"));
        var port = Ports.Free();
        var configArg = $"--target-config={config}";
        var daemons = new List<int>();
        try
        {
            // /opt/websockify/websockify -D 41337 --target-config=/opt/websockify/config.vnc
            await using (var launcher = CliRelay.Start("cli-daemon-launcher", ["-D", port.ToString(CultureInfo.InvariantCulture), configArg]))
            {
                Assert.True(await launcher.WaitForExitAsync(Timeout), "vnc-relay -D did not return to its caller");
                Assert.True(launcher.ExitCode == 0, $"vnc-relay -D exited with {launcher.ExitCode}:\n{launcher.Tail()}");
            }

            await Eventually.HoldsAsync(() =>
            {
                daemons = [.. DetachedProcesses.Find(Repo.RelayExecutable, configArg)];
                return daemons.Count > 0;
            }, Timeout, $"a detached vnc-relay with {configArg} runs");
            await using var session = await CliRelay.OpenEchoingAsync("127.0.0.1", port, token, $"the daemon relays {token} on port {port}");

            var daemon = Assert.Single(daemons);
            Assert.Equal(daemon, DetachedProcesses.SessionId(daemon));
            Assert.DoesNotContain("-D", File.ReadAllText($"/proc/{daemon}/cmdline").Split('\0'));
            Assert.True(await CliRelay.AcceptsAsync(OtherLoopback, port), $"a bare port listens on every address, but {OtherLoopback}:{port} refused");
            Assert.True(await session.EchoesAsync());

            DetachedProcesses.Signal(daemon, "TERM");
            Assert.True(await DetachedProcesses.WaitGoneAsync(daemon, Timeout), $"the daemon {daemon} still runs {Timeout.TotalSeconds:F0} s after SIGTERM");
            Assert.False(await CliRelay.AcceptsAsync(IPAddress.Loopback, port), $"port {port} still accepts after the daemon stopped");
        }
        finally
        {
            foreach (var pid in daemons)
            {
                await DetachedProcesses.StopAsync(pid);
            }
        }
    }

    [Fact]
    public async Task InitScript_WithAPidFile_StartsOneNode_WhosePidIsInTheFile_AndStopsIt()
    {
        await using var echo = TcpTarget.Echo();
        var token = "initd-" + Guid.NewGuid().ToString("N")[..12];
        var directory = Repo.TempDirectory("initd");
        var config = TokenFiles.Write(directory, (token, $"127.0.0.1:{echo.Port}"));
        var pidFile = Path.Combine(directory, "vnc-relay.pid");
        var port = Ports.Free();
        var script = Path.Combine(directory, "vnc-relay.init");
        // The shape of the legacy guide's /etc/init.d/websockify (service websockify start|stop|status), with Debian's
        // start-stop-daemon keeping the PID file, since websockify writes none itself.
        await File.WriteAllTextAsync(script, $$"""
            #!/bin/sh
            DAEMON={{Repo.RelayExecutable}}
            PIDFILE={{pidFile}}
            case "$1" in
              start)  start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" --exec "$DAEMON" -- {{port}} --target-config={{config}} ;;
              stop)   start-stop-daemon --stop --quiet --pidfile "$PIDFILE" --retry TERM/30/KILL/5 && rm -f "$PIDFILE" ;;
              status) start-stop-daemon --status --pidfile "$PIDFILE" ;;
              *)      echo "usage: $0 start|stop|status"; exit 2 ;;
            esac
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pid = 0;
        try
        {
            var start = await ServiceAsync(script, "start");
            Assert.True(start.ExitCode == 0, $"service start exited with {start.ExitCode}: {start.Output}");
            await Eventually.HoldsAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, Timeout, $"{pidFile} is written");
            pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
            await using var session = await CliRelay.OpenEchoingAsync("127.0.0.1", port, token, $"the node started by the init script relays {token}");

            Assert.True(DetachedProcesses.IsAlive(pid), $"the PID file names {pid}, which is not running");
            Assert.Equal(Repo.RelayExecutable, new FileInfo($"/proc/{pid}/exe").LinkTarget);
            Assert.Equal(new[] { pid }, DetachedProcesses.Find(Repo.RelayExecutable, $"--target-config={config}").ToArray());
            Assert.Equal(0, (await ServiceAsync(script, "status")).ExitCode);
            var second = await ServiceAsync(script, "start");
            Assert.NotEqual(0, second.ExitCode);
            Assert.Equal(new[] { pid }, DetachedProcesses.Find(Repo.RelayExecutable, $"--target-config={config}").ToArray());

            var stop = await ServiceAsync(script, "stop");
            Assert.True(stop.ExitCode == 0, $"service stop exited with {stop.ExitCode}: {stop.Output}");
            Assert.False(DetachedProcesses.IsAlive(pid), $"node {pid} still runs after service stop");
            Assert.False(File.Exists(pidFile), "service stop left the PID file behind");
            Assert.Equal(3, (await ServiceAsync(script, "status")).ExitCode); // LSB: program is not running
            Assert.False(await CliRelay.AcceptsAsync(IPAddress.Loopback, port), $"port {port} still accepts after service stop");
        }
        finally
        {
            if (pid != 0)
            {
                await DetachedProcesses.StopAsync(pid);
            }
        }
    }

    [Theory]
    [InlineData("--token-source")]
    [InlineData("--target-config")]
    public async Task HostPort_WithAFolderOfTokenFiles_ListensOnThatHostOnly_AndRelaysTokensOfEveryFile_EvenALaterOne(string option)
    {
        await using var echo = TcpTarget.Echo();
        var folder = Repo.TempDirectory("tokens");
        var target = $"127.0.0.1:{echo.Port}";
        var tokens = Enumerable.Range(1, 3).Select(i => $"folder{i}-" + Guid.NewGuid().ToString("N")[..10]).ToArray();
        await File.WriteAllTextAsync(Path.Combine(folder, "hypervisor-a"), $"{tokens[0]}: {target}\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "hypervisor-b"), $"# cron-written\n{tokens[1]}: {target}\n");
        var port = Ports.Free();
        string[] source = option == "--token-source" ? ["--token-plugin", "TokenFile", "--token-source", folder] : [$"--target-config={folder}"];
        await using var node = CliRelay.Start("cli-folder", [$"127.0.0.1:{port}", .. source]);

        await using var first = await CliRelay.OpenEchoingAsync("127.0.0.1", port, tokens[0], $"{tokens[0]} of the first file relays");
        await using var second = await CliRelay.OpenEchoingAsync("127.0.0.1", port, tokens[1], $"{tokens[1]} of the second file relays");
        await File.WriteAllTextAsync(Path.Combine(folder, "hypervisor-c"), $"{tokens[2]}: {target}\n");
        await using var later = await CliRelay.OpenEchoingAsync("127.0.0.1", port, tokens[2], $"{tokens[2]} of a file added later relays");

        Assert.False(await CliRelay.AcceptsAsync(OtherLoopback, port), $"127.0.0.1:{port} was asked for, but {OtherLoopback}:{port} accepts too");
        Assert.False(node.HasExited, node.Tail());
    }

    [Fact]
    public async Task Heartbeat_SendsPingsAtTheGivenInterval_OnAnIdleSession()
    {
        await using var echo = TcpTarget.Echo();
        var token = "beat-" + Guid.NewGuid().ToString("N")[..12];
        var config = TokenFiles.Write(Repo.TempDirectory("beat"), (token, $"127.0.0.1:{echo.Port}"));
        var port = Ports.Free();
        await using var node = CliRelay.Start("cli-heartbeat", [$"127.0.0.1:{port}", $"--target-config={config}", "--heartbeat=1"]);
        await (await CliRelay.OpenEchoingAsync("127.0.0.1", port, token, $"the node relays {token}")).DisposeAsync();

        await using var socket = await RawWebSocket.OpenAsync(port, $"/websockify?token={token}", Timeout);
        Assert.StartsWith("HTTP/1.1 101", socket.StatusLine, StringComparison.Ordinal);
        var pings = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        // The default heartbeat is 25 s: three pings within 10 s come from --heartbeat=1 alone.
        while (pings.Count < 3)
        {
            var left = TimeSpan.FromSeconds(10) - clock.Elapsed;
            Assert.True(left > TimeSpan.Zero, $"only {pings.Count} pings arrived in 10 s on an idle session with --heartbeat=1");
            var frame = await socket.ReadFrameAsync(left) ?? throw new Xunit.Sdk.XunitException($"the node closed the connection after {pings.Count} pings");
            Assert.NotEqual(Opcode.Close, frame.Opcode);
            if (frame.Opcode == Opcode.Ping)
            {
                pings.Add(clock.Elapsed);
                await socket.SendFrameAsync(Opcode.Pong, frame.Payload);
            }
        }

        var gaps = pings.Zip(pings.Skip(1), (a, b) => b - a).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"pings at {string.Join(", ", pings.Select(p => $"{p.TotalMilliseconds:F0} ms"))}");
        Assert.All(gaps, gap => Assert.InRange(gap, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5)));
        await socket.SendFrameAsync(Opcode.Binary, "still here"u8.ToArray());
        var echoed = await socket.ReadFrameAsync(Timeout);
        while (echoed?.Opcode == Opcode.Ping)
        {
            echoed = await socket.ReadFrameAsync(Timeout);
        }

        Assert.Equal("still here", System.Text.Encoding.ASCII.GetString(echoed?.Payload ?? []));
    }

    [Fact]
    public async Task Web_ServesTheFolder_OnTheRelayPort_BesideTheRelayPath()
    {
        await using var echo = TcpTarget.Echo();
        var token = "web-" + Guid.NewGuid().ToString("N")[..12];
        var config = TokenFiles.Write(Repo.TempDirectory("webcfg"), (token, $"127.0.0.1:{echo.Port}"));
        var web = Repo.TempDirectory("web");
        var marker = "served-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(Path.Combine(web, "app"));
        await File.WriteAllTextAsync(Path.Combine(web, "vnc.html"), $"<html>{marker}</html>");
        await File.WriteAllTextAsync(Path.Combine(web, "app", "ui.js"), $"// {marker}");
        var port = Ports.Free();
        await using var node = CliRelay.Start("cli-web", [$"127.0.0.1:{port}", $"--target-config={config}", $"--web={web}"]);
        await using var session = await CliRelay.OpenEchoingAsync("127.0.0.1", port, token, $"the node with --web relays {token}");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        var page = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/vnc.html"));
        var script = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/app/ui.js"));
        using var missing = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/not-there.html"));

        Assert.Contains(marker, page, StringComparison.Ordinal);
        Assert.Contains(marker, script, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True(await session.EchoesAsync());
    }

    [Fact]
    public async Task UnixSocketTarget_InTheTokenFile_Relays()
    {
        await using var vnc = new UnixEchoTarget();
        var token = "unix-" + Guid.NewGuid().ToString("N")[..12];
        var config = TokenFiles.Write(Repo.TempDirectory("unixcfg"), (token, $"unix_socket:{vnc.Path}"));
        var port = Ports.Free();
        await using var node = CliRelay.Start("cli-unix", [$"127.0.0.1:{port}", $"--target-config={config}"]);

        await using var session = await CliRelay.OpenEchoingAsync("127.0.0.1", port, token, $"the node relays {token} to {vnc.Path}");

        Assert.True(vnc.Accepted >= 1, $"nothing connected to {vnc.Path}");
        Assert.True(await session.EchoesAsync(4096));
    }

    [Fact]
    public async Task UnixTargetOption_IsRefusedAtStart_WithUsage()
    {
        // websockify's --unix-target is a fixed target for every session; the relay maps tokens to targets only
        // (unix_socket:/path in the token file, above), and says so rather than starting without a target.
        await using var node = CliRelay.Start("cli-unix-target", [$"127.0.0.1:{Ports.Free()}", "--unix-target=/run/vnc.sock"]);

        Assert.True(await node.WaitForExitAsync(Timeout), "vnc-relay --unix-target did not exit");
        Assert.Equal(2, node.ExitCode);
        Assert.Contains("unknown option --unix-target", node.Output, StringComparison.Ordinal);
        Assert.Contains("usage: vnc-relay", node.Output, StringComparison.Ordinal);
    }

    private static Task<Deploy.CommandResult> ServiceAsync(string script, string verb) =>
        Deploy.DeployCommands.RunAsync("initd-" + verb, script, [verb], CliRelay.Environment());
}
