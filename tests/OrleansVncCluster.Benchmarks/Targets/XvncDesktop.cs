using System.Diagnostics;
using System.Globalization;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>
/// A real VNC server for the console page: Debian's Xvnc on loopback, no VNC password (security type None), its root
/// window one solid colour, so that the page's canvas shows the desktop exactly when its centre pixel has that colour.
/// </summary>
internal sealed class XvncDesktop : IAsyncDisposable
{
    /// <summary>The root window's colour, and what the canvas shows once the desktop is drawn.</summary>
    public static readonly (int R, int G, int B) Colour = (0x2a, 0x9d, 0x8f);

    private readonly PeerProcess _process;

    private XvncDesktop(PeerProcess process, int port, int display)
    {
        _process = process;
        Port = port;
        Display = display;
    }

    public int Port { get; }

    /// <summary>The X display number, for X clients drawn on the desktop.</summary>
    public int Display { get; }

    public static async Task<XvncDesktop> StartAsync(string logDir, string geometry = "320x200")
    {
        var display = FreeDisplay();
        var port = Ports.Free();
        var process = PeerProcess.Start($"Xvnc :{display}", "Xvnc",
            [$":{display}", "-rfbport", port.ToString(CultureInfo.InvariantCulture), "-localhost", "-interface", "127.0.0.1",
             "-geometry", geometry, "-depth", "24", "-SecurityTypes", "None", "-AlwaysShared"],
            Path.Combine(logDir, "xvnc.log"));
        var desktop = new XvncDesktop(process, port, display);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(20));
            var deadline = Stopwatch.StartNew();
            while (!File.Exists($"/tmp/.X11-unix/X{display}") && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }

            await desktop.PaintAsync($"#{Colour.R:x2}{Colour.G:x2}{Colour.B:x2}");
        }
        catch
        {
            await desktop.DisposeAsync();
            throw;
        }

        return desktop;
    }

    /// <summary>Paints the root window <paramref name="colour"/> (xsetroot -solid).</summary>
    public async Task PaintAsync(string colour)
    {
        var paint = new ProcessStartInfo("xsetroot", ["-solid", colour]) { UseShellExecute = false };
        paint.Environment["DISPLAY"] = $":{Display}";
        using var xsetroot = Process.Start(paint) ?? throw new InvalidOperationException("could not start xsetroot");
        await xsetroot.WaitForExitAsync();
        if (xsetroot.ExitCode != 0)
        {
            throw new InvalidOperationException($"xsetroot could not paint Xvnc :{Display} (exit {xsetroot.ExitCode})");
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>A display number with neither an X socket nor a lock file (another Xvnc of this machine's).</summary>
    private static int FreeDisplay()
    {
        for (var display = 300 + Random.Shared.Next(0, 300); display < 1000; display++)
        {
            if (!File.Exists($"/tmp/.X11-unix/X{display}") && !File.Exists($"/tmp/.X{display}-lock"))
            {
                return display;
            }
        }

        throw new InvalidOperationException("no free X display number");
    }
}
