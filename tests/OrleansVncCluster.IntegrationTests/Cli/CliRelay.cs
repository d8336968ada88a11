using System.Globalization;
using System.Net;
using System.Net.Sockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Cli;

/// <summary>
/// The published node started with a websockify command line, as an init script or an operator types it, rather than
/// through <see cref="RelayNodeProcess"/>'s environment. Only the ports a shared machine must not collide on (admin,
/// agent, silo) come from the environment; everything the test is about is on the command line.
/// </summary>
public static class CliRelay
{
    /// <summary>
    /// The environment every command-line node gets: free admin, agent and silo ports instead of the defaults (8082,
    /// 8081, 11111), which another node on this machine may hold; no failed-token lockout (tests poll for tokens); a
    /// drain budget of one second, so SIGTERM with a session open ends the node in seconds rather than 30.
    /// </summary>
    public static Dictionary<string, string?> Environment() => new()
    {
        ["Relay__AdminListen"] = $"127.0.0.1:{Ports.Free()}",
        ["Relay__AgentListen"] = $"127.0.0.1:{Ports.Free()}",
        ["Orleans__Endpoints__SiloPort"] = Ports.Free().ToString(CultureInfo.InvariantCulture),
        ["Orleans__SiloName"] = "cli-" + Guid.NewGuid().ToString("N")[..6],
        ["Limits__MaxFailedTokens"] = "0",
        ["Relay__DrainBudget"] = "00:00:01",
        ["DOTNET_gcServer"] = "0",
    };

    /// <summary>Starts the node in the foreground with exactly <paramref name="args"/>.</summary>
    public static ManagedProcess Start(string name, IEnumerable<string> args, IDictionary<string, string?>? environment = null) =>
        ManagedProcess.Start(name, Repo.RelayExecutable, args, environment ?? Environment());

    /// <summary>A session through <paramref name="host"/>:<paramref name="port"/> that echoes; waits for the node to start.</summary>
    public static Task<ConsoleClient> OpenEchoingAsync(string host, int port, string token, string what) =>
        ConsoleClient.OpenEchoingAsync(new Uri($"ws://{host}:{port}/websockify?token={token}"), what, timeout: TimeSpan.FromSeconds(60));

    /// <summary>True when something accepts a TCP connection at the address.</summary>
    public static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.ConnectAsync(address, port, timeout.Token);
            return true;
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>
/// Processes that left the test's process tree (a daemonised node): found by their executable and a marker in their
/// command line, and stopped by PID (SIGTERM, then SIGKILL), never by name.
/// </summary>
public static class DetachedProcesses
{
    /// <summary>Live PIDs whose executable is <paramref name="executable"/> and whose arguments include <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> Find(string executable, string marker)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var exe = new FileInfo(Path.Combine(directory, "exe")).LinkTarget;
                var args = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (exe == executable && args.Contains(marker) && IsAlive(pid))
                {
                    found.Add(pid);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>True while the PID runs (a zombie waiting for a reaper counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The session id of a PID (field 6 of /proc/PID/stat): equal to the PID for a session leader (setsid).</summary>
    public static int SessionId(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[3], CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the PID is gone; false on timeout.</summary>
    public static async Task<bool> WaitGoneAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Stops one PID: SIGTERM, up to <paramref name="grace"/> for it to go, then SIGKILL.</summary>
    public static async Task StopAsync(int pid, TimeSpan? grace = null)
    {
        if (!IsAlive(pid))
        {
            return;
        }

        Signal(pid, "TERM");
        if (!await WaitGoneAsync(pid, grace ?? TimeSpan.FromSeconds(20)))
        {
            Signal(pid, "KILL");
            await WaitGoneAsync(pid, TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>Sends a signal to one PID.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}

/// <summary>An echo server on a Unix domain socket, as a VNC server reached through <c>unix_socket:/path</c>.</summary>
public sealed class UnixEchoTarget : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    public UnixEchoTarget()
    {
        Path = System.IO.Path.Combine(Repo.TempDirectory("unix"), "vnc.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(16);
        _accepting = AcceptAsync();
    }

    /// <summary>The socket's path.</summary>
    public string Path { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(async () =>
            {
                using (connection)
                {
                    var buffer = new byte[64 * 1024];
                    try
                    {
                        int read;
                        while ((read = await connection.ReceiveAsync(buffer, _stop.Token)) > 0)
                        {
                            await connection.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                        }
                    }
                    catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        // The relay closed the connection.
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        _stop.Dispose();
        File.Delete(Path);
    }
}
