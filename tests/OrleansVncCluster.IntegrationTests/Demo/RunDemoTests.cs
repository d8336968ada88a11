using System.Globalization;
using System.Text.RegularExpressions;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Demo;

/// <summary>
/// scripts/run-demo.sh (`make run`) as a user meets it: started in a process group of its own, as a terminal starts a
/// command, then stopped with SIGINT to the whole group, as Ctrl+C does. Its children are background jobs of a
/// non-interactive shell, which ignore SIGINT: only the script can stop them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed partial class RunDemoTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Where the README's screenshot comes from: docs/images/make-run-console.png is a copy of it.</summary>
    public const string ScreenshotName = "make-run";

    [Fact]
    public async Task Demo_ShowsTheDesktopInChromium_AndCtrlCToTheGroupStopsEverything()
    {
        await using var demo = await DemoProcess.StartAsync();
        await demo.Process.WaitForOutputAsync("Press Ctrl+C", StartTimeout);
        var url = BrowserLine().Match(demo.Process.Output);
        Assert.True(url.Success, $"no Browser URL in:\n{demo.Process.Output}");

        await using (var browser = await ConsoleBrowser.LaunchAsync())
        await using (var tab = await browser.OpenTabAsync())
        {
            await tab.Page.GotoAsync(url.Groups[1].Value);
            await tab.WaitForStateAsync("connected", TimeSpan.FromSeconds(30));
            // The demo desktop is xsetroot -solid '#2a6f97'.
            await tab.WaitForColourAsync(new Rgb(0x2a, 0x6f, 0x97), TimeSpan.FromSeconds(30));
            await tab.SaveScreenshotAsync(ScreenshotName);
        }

        var members = demo.GroupMembers();
        Assert.True(members.Count >= 3, $"expected the script, Xvnc and the node in the group, found {string.Join(", ", members)}");

        demo.SignalGroup("INT");

        Assert.True(await demo.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"run-demo.sh still runs 30 s after SIGINT:\n{demo.Process.Tail()}");
        Assert.Equal(130, demo.Process.ExitCode);
        await Eventually.HoldsAsync(() => demo.GroupMembers().Count == 0, TimeSpan.FromSeconds(15),
            $"every process of group {demo.GroupId} is gone after SIGINT (left: {string.Join(", ", demo.GroupMembers())})");
    }

    [Fact]
    public async Task NodeThatNeverBecomesReady_FailsLoudly_AndLeavesNoProcess()
    {
        // An invalid setting: the node exits with 78 at start-up.
        await using var demo = await DemoProcess.StartAsync(new() { ["Relay__MaxSessions"] = "-1" });

        Assert.True(await demo.Process.WaitForExitAsync(StartTimeout), $"run-demo.sh did not give up:\n{demo.Process.Tail()}");

        Assert.Equal(1, demo.Process.ExitCode);
        Assert.Contains("vnc-relay exited with code 78 before it became ready", demo.Process.Output, StringComparison.Ordinal);
        Assert.Contains("Relay:MaxSessions", demo.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("is running", demo.Process.Output, StringComparison.Ordinal);
        await Eventually.HoldsAsync(() => demo.GroupMembers().Count == 0, TimeSpan.FromSeconds(15),
            $"every process of group {demo.GroupId} is gone (left: {string.Join(", ", demo.GroupMembers())})");
    }

    [Fact]
    public async Task PortTaken_SaysWhichPortAndHowToChooseAnother_StartsNothing()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        await using var demo = await DemoProcess.StartAsync(new() { ["RELAY_PORT"] = port });

        Assert.True(await demo.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)), demo.Process.Tail());

        Assert.Equal(1, demo.Process.ExitCode);
        Assert.Contains($"port {port} is taken", demo.Process.Output, StringComparison.Ordinal);
        Assert.Contains("make run RELAY_PORT=", demo.Process.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Browser\s*:\s*(\S+)")]
    private static partial Regex BrowserLine();

    /// <summary>run-demo.sh leading a new session and process group, on free ports and a scratch RUN_DIR.</summary>
    private sealed class DemoProcess : IAsyncDisposable
    {
        private readonly string _runDir;

        private DemoProcess(ManagedProcess process, int groupId, string runDir)
        {
            Process = process;
            GroupId = groupId;
            _runDir = runDir;
        }

        public ManagedProcess Process { get; }

        public int GroupId { get; }

        public static async Task<DemoProcess> StartAsync(Dictionary<string, string?>? environment = null)
        {
            var runDir = Repo.TempDirectory("run-demo");
            var env = new Dictionary<string, string?>
            {
                ["RELAY_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
                ["ADMIN_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
                ["AGENT_PORT"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
                ["RUN_DIR"] = runDir,
            };
            foreach (var (key, value) in environment ?? [])
            {
                env[key] = value;
            }

            // setsid execs in place (the test host's child is no group leader): the script's PID is its group's id. env
            // (coreutils) then restores SIGINT's default before bash starts, as a terminal starts every command: a test
            // run that was itself started as a background job of a non-interactive shell has SIGINT ignored, which every
            // child inherits and which bash cannot trap, so the script's Ctrl+C handling would go untested (stop 48).
            var process = ManagedProcess.Start("run-demo", "setsid",
                ["env", "--default-signal=INT", "bash", Path.Combine(Repo.Root, "scripts", "run-demo.sh")], env);
            var groupId = 0;
            await Eventually.HoldsAsync(() => (groupId = GroupOf(process.Pid)) == process.Pid || process.HasExited, TimeSpan.FromSeconds(10),
                "run-demo.sh leads its own process group");
            return new DemoProcess(process, process.Pid, runDir);
        }

        /// <summary>PIDs whose process group is <see cref="GroupId"/> (zombies included: they are not gone yet).</summary>
        public List<int> GroupMembers()
        {
            var members = new List<int>();
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && GroupOf(pid) == GroupId)
                {
                    members.Add(pid);
                }
            }

            return members;
        }

        public void SignalGroup(string signal)
        {
            using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, "--", "-" + GroupId.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            // A failed test must not leave a node or an X server behind: the group is ours alone.
            if (GroupMembers().Count > 0)
            {
                SignalGroup("KILL");
            }

            await Process.DisposeAsync();
            Directory.Delete(_runDir, recursive: true);
        }

        /// <summary>Field 5 of /proc/PID/stat (after the parenthesised command name, which may hold spaces).</summary>
        private static int GroupOf(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[2], CultureInfo.InvariantCulture);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return -1;
            }
        }
    }
}
