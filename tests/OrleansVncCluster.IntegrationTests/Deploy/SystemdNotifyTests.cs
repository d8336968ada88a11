using System.Net.Sockets;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>
/// The shipped units are Type=notify: systemd waits for READY=1 on $NOTIFY_SOCKET before it calls a unit started.
/// A process that never sends it is killed at TimeoutStartSec, so each executable is checked against a real socket.
/// .NET only talks to systemd when its parent process is named "systemd" (Microsoft.Extensions.Hosting.Systemd's
/// SystemdHelpers.IsSystemdService), so the executable runs under a small shell script of that name.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed class SystemdNotifyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RelayNode_SendsReadyToTheNotifySocket()
    {
        using var notify = NotifySocket.Create();
        var tokens = TokenFiles.Write(Repo.TempDirectory("notify-relay"), ("notify", "127.0.0.1:5999"));
        await using var node = await SystemdParent.StartAsync("vnc-relay-notify", [Repo.RelayExecutable],
            new Dictionary<string, string?>
            {
                ["NOTIFY_SOCKET"] = notify.Path,
                ["Relay__Listen"] = $"127.0.0.1:{Ports.Free()}",
                ["Relay__AdminListen"] = $"127.0.0.1:{Ports.Free()}",
                ["Relay__AgentListen"] = $"127.0.0.1:{Ports.Free()}",
                ["Orleans__Endpoints__SiloPort"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Tokens__Files__0"] = tokens,
            });

        Assert.Contains("READY=1", await notify.ReceiveAsync(Timeout, node.Parent));
    }

    [Fact]
    public async Task AbiquoSimulator_SendsReadyToTheNotifySocket()
    {
        using var notify = NotifySocket.Create();
        var password = Path.Combine(Repo.TempDirectory("notify-sim"), "password");
        await File.WriteAllTextAsync(password, "notify-" + Guid.NewGuid().ToString("N")[..8]);
        await using var simulator = await SystemdParent.StartAsync("abiquo-simulator-notify",
            [Repo.SimulatorExecutable, "--urls", $"http://127.0.0.1:{Ports.Free()}", "--vms", "1", "--password-file", password],
            new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notify.Path });

        Assert.Contains("READY=1", await notify.ReceiveAsync(Timeout, simulator.Parent));
    }

    /// <summary>A datagram socket like systemd's notify socket, in a private temporary directory.</summary>
    private sealed class NotifySocket : IDisposable
    {
        private readonly Socket _socket;

        private NotifySocket(Socket socket, string path)
        {
            _socket = socket;
            Path = path;
        }

        public string Path { get; }

        public static NotifySocket Create()
        {
            var path = System.IO.Path.Combine(Repo.TempDirectory("notify"), "notify.sock");
            var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            return new NotifySocket(socket, path);
        }

        /// <summary>Every message until one says READY=1, or the process exits, or the time is up.</summary>
        public async Task<string> ReceiveAsync(TimeSpan timeout, ManagedProcess process)
        {
            using var deadline = new CancellationTokenSource(timeout);
            var received = new StringBuilder();
            var buffer = new byte[4096];
            try
            {
                while (!received.ToString().Contains("READY=1", StringComparison.Ordinal))
                {
                    var count = await _socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                    received.Append(Encoding.UTF8.GetString(buffer, 0, count)).Append('\n');
                }
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no READY=1 on NOTIFY_SOCKET within {timeout.TotalSeconds:F0} s; got '{received}'. Output:\n{process.Tail()}");
            }

            return received.ToString();
        }

        public void Dispose() => _socket.Dispose();
    }

    /// <summary>A script named "systemd" that runs the command as its child and forwards SIGTERM to it.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private sealed class SystemdParent : IAsyncDisposable
    {
        private const string Script = "#!/bin/sh\n\"$@\" &\nchild=$!\ntrap 'kill -TERM $child' TERM INT\nwait $child\n";

        private SystemdParent(ManagedProcess parent, int childPid)
        {
            Parent = parent;
            ChildPid = childPid;
        }

        public ManagedProcess Parent { get; }

        public int ChildPid { get; }

        public static async Task<SystemdParent> StartAsync(string name, IReadOnlyList<string> command, IDictionary<string, string?> environment)
        {
            var script = System.IO.Path.Combine(Repo.TempDirectory("systemd-parent"), "systemd");
            await File.WriteAllTextAsync(script, Script);
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var parent = ManagedProcess.Start(name, script, command, environment);
            var children = $"/proc/{parent.Pid}/task/{parent.Pid}/children";
            var childPid = 0;
            await Eventually.HoldsAsync(
                () => File.Exists(children) && int.TryParse(File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(), out childPid),
                TimeSpan.FromSeconds(10), $"{name} did not start under its systemd-named parent");
            return new SystemdParent(parent, childPid);
        }

        public async ValueTask DisposeAsync()
        {
            // The script forwards SIGTERM; the child is still killed by its own PID if it outlives the script.
            await Parent.DisposeAsync();
            try
            {
                using var child = System.Diagnostics.Process.GetProcessById(ChildPid);
                if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    child.Kill();
                }
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }
}
