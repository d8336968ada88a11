using System.Diagnostics;
using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>
/// The idle sessions' far ends live in a child process: a process may hold at most 20000 descriptors here (the hard
/// limit cannot be raised without CAP_SYS_RESOURCE), and 10,000 client sockets plus 10,000 accepted ones would not fit
/// in the bench alone.
/// </summary>
internal sealed class BannerHost : IAsyncDisposable
{
    public const string Command = "serve-banner";

    private readonly Process _process;

    private BannerHost(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>Starts this executable in <see cref="Command"/> mode and reads the port it serves.</summary>
    public static async Task<BannerHost> StartAsync()
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the vnc-bench executable to start the banner host");
        var info = new ProcessStartInfo(self, [Command])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the banner host");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(deadline.Token);
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"the banner host did not report its port (said: '{line}')");
        }

        return new BannerHost(process, int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture));
    }

    /// <summary>The child's side: serve banners until the parent closes our stdin.</summary>
    public static async Task<int> ServeAsync()
    {
        await using var server = new TargetServer(TargetKind.Banner);
        Console.WriteLine($"PORT {server.Port}");
        await Console.Out.FlushAsync();
        await Console.In.ReadToEndAsync();
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        // Closing stdin is the stop signal; the kill is only for a child that hangs.
        _process.StandardInput.Close();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
