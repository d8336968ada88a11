using System.Diagnostics;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A real process started by a test: its output is kept (bounded) for assertions and written to the artifacts folder,
/// and disposing it stops exactly this PID (SIGTERM, then SIGKILL), never "every redis-server on the machine".
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private const int MaxKeptChars = 4 * 1024 * 1024;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();

    private ManagedProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    /// <summary>A label for messages.</summary>
    public string Name { get; }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Where its output is saved.</summary>
    public string LogPath { get; }

    /// <summary>True once it exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Exit code (after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything it printed so far (stdout and stderr interleaved).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="file"/> with arguments and extra environment variables.</summary>
    public static ManagedProcess Start(string name, string file, IEnumerable<string> args, IDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        var logPath = Path.Combine(Repo.ArtifactsDirectory, $"{name}-{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..40] + ".log");
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.Start();
        var managed = new ManagedProcess(name, process, logPath);
        process.OutputDataReceived += (_, e) => managed.Append(e.Data);
        process.ErrorDataReceived += (_, e) => managed.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return managed;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails early if the process exits.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        Eventually.HoldsAsync(() =>
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {ExitCode} before printing '{text}'. Output:\n{Tail()}");
            }

            return false;
        }, timeout, $"{Name} prints '{text}'");

    /// <summary>The last lines of output, for failure messages.</summary>
    public string Tail(int chars = 4000)
    {
        var output = Output;
        return output.Length <= chars ? output : output[^chars..];
    }

    /// <summary>Writes <paramref name="text"/> to its standard input and closes it (a prompt answered, then end of input).</summary>
    public async Task WriteInputAndCloseAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        _process.StandardInput.Close();
    }

    /// <summary>Sends a signal to this PID only.</summary>
    public void Signal(string signal)
    {
        if (!HasExited)
        {
            using var kill = Process.Start("kill", ["-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    /// <summary>Waits for exit; false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops the process: SIGTERM, 10 s of grace, then SIGKILL.</summary>
    public ValueTask DisposeAsync() => StopAsync(TimeSpan.FromSeconds(10));

    /// <summary>
    /// Stops the process: SIGTERM, <paramref name="grace"/> to exit on its own, then SIGKILL. A kill is written to the
    /// process's log, since what a process leaves behind when it cannot finish its shutdown (a relay node's membership
    /// row, for one) explains what goes wrong next.
    /// </summary>
    public async ValueTask StopAsync(TimeSpan grace)
    {
        try
        {
            if (!HasExited)
            {
                Signal("TERM");
                if (!await WaitForExitAsync(grace))
                {
                    Append($"[test harness] still running {grace.TotalSeconds:F0} s after SIGTERM: SIGKILL");
                    _process.Kill(entireProcessTree: false);
                    await WaitForExitAsync(TimeSpan.FromSeconds(5));
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        lock (_gate)
        {
            _log.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_output.Length < MaxKeptChars)
            {
                _output.AppendLine(line);
            }

            _log.WriteLine(line);
        }
    }
}
