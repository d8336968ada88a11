using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// A process the bench started. Output goes to a log file (never a pipe the bench must drain while it measures).
/// Stopping signals exactly this PID, then exactly the descendants it had (PID plus start time), nothing by name.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ProcFs.ProcessId _identity;
    private bool _disposed;

    private PeerProcess(string name, Process process, string logFile)
    {
        Name = name;
        _process = process;
        LogFile = logFile;
        _identity = ProcFs.Identify(process.Id) ?? new ProcFs.ProcessId(process.Id, 0);
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public string LogFile { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="command"/> with its output appended to <paramref name="logFile"/>.</summary>
    public static PeerProcess Start(string name, string command, IEnumerable<string> arguments, string logFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        // exec keeps the PID: the shell only sets up the redirections and becomes the command.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(logFile);
        info.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command}");
        return new PeerProcess(name, process, logFile);
    }

    /// <summary>Waits until <paramref name="port"/> accepts a TCP connection; fails naming the peer and its log.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, string address = "127.0.0.1")
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            ThrowIfExited();
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(address, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"{Name} did not accept connections on {address}:{port} within {timeout.TotalSeconds:F0} s; see {LogFile}:\n{Tail()}");
    }

    /// <summary>Waits until GET <paramref name="url"/> answers 2xx.</summary>
    public async Task WaitForHttpOkAsync(string url, TimeSpan timeout)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        var last = "no answer";
        while (deadline.Elapsed < timeout)
        {
            ThrowIfExited();
            try
            {
                using var response = await http.GetAsync(new Uri(url));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                last = exception.Message;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} did not answer 2xx on {url} within {timeout.TotalSeconds:F0} s (last: {last}); see {LogFile}:\n{Tail()}");
    }

    public void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"{Name} (pid {Pid}) exited with code {_process.ExitCode}; see {LogFile}:\n{Tail()}");
        }
    }

    /// <summary>The last lines of the log, for error messages.</summary>
    public string Tail(int lines = 20)
    {
        try
        {
            return string.Join('\n', File.ReadLines(LogFile).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>
    /// SIGKILL to exactly this PID, as a crash or an OOM kill would end it (the failover workloads), and waits until it
    /// is gone. The process leaves no goodbye: its sockets are reset by the kernel, its cluster membership stays Active.
    /// </summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            Signal(_identity, "KILL");
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(deadline.Token);
    }

    /// <summary>SIGTERM, a grace period, then SIGKILL; then the descendants it had, each by PID and start time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var descendants = ProcFs.Tree(_identity.Pid).Where(p => p.Pid != _identity.Pid).ToList();
        if (!_process.HasExited)
        {
            Signal(_identity, "TERM");
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }

        foreach (var child in descendants)
        {
            Signal(child, "KILL");
        }

        _process.Dispose();
    }

    private static void Signal(ProcFs.ProcessId target, string signal)
    {
        if (!ProcFs.IsAlive(target))
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, target.Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
        kill?.WaitForExit();
    }
}
