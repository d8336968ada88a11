using System.Diagnostics;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A real TigerVNC server (Xvnc) on a free display and port, with None, VncAuth or any -SecurityTypes list
/// (X509Vnc and friends with a certificate), its root window painted a known colour so screens can be checked.</summary>
public sealed class XvncServer : IAsyncDisposable
{
    private XvncServer(ManagedProcess process, int display, int port, string? password)
    {
        Process = process;
        Display = display;
        Port = port;
        Password = password;
    }

    public ManagedProcess Process { get; }
    public int Display { get; }
    public int Port { get; }
    public string? Password { get; }

    /// <summary>Starts Xvnc; <paramref name="password"/> null means SecurityTypes None, otherwise VncAuth unless
    /// <paramref name="securityTypes"/> names others (with <paramref name="x509"/> PEM files for the X509 ones).</summary>
    public static async Task<XvncServer> StartAsync(
        string? password = "secret12", string colour = "#cc2200", int width = 640, int height = 480,
        string? securityTypes = null, (string Certificate, string Key)? x509 = null)
    {
        var display = FreeDisplay();
        var port = Ports.Free();
        var args = new List<string>
        {
            $":{display}", "-rfbport", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-localhost", "-interface", "127.0.0.1",
            "-geometry", $"{width}x{height}", "-depth", "24", "-BlacklistThreshold", "1000000", "-AlwaysShared",
        };
        if (password is null)
        {
            args.AddRange(["-SecurityTypes", "None"]);
        }
        else
        {
            var directory = Repo.TempDirectory("xvnc");
            var passwordFile = Path.Combine(directory, "passwd");
            await MakePasswordFileAsync(password, passwordFile);
            args.AddRange(["-SecurityTypes", securityTypes ?? "VncAuth", "-PasswordFile", passwordFile]);
        }

        if (x509 is { } files)
        {
            args.AddRange(["-X509Cert", files.Certificate, "-X509Key", files.Key]);
        }

        var process = ManagedProcess.Start($"xvnc{display}", "Xvnc", args);
        var server = new XvncServer(process, display, port, password);
        await Eventually.HoldsAsync(() => process.HasExited || (File.Exists($"/tmp/.X11-unix/X{display}") && CanConnect(port)),
            TimeSpan.FromSeconds(20), $"Xvnc :{display} listens on {port}");
        Assert.False(process.HasExited, $"Xvnc :{display} exited: {process.Output}");
        await PaintAsync(display, colour);
        return server;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>A display number no X server uses and no other test of this run was given: two test classes running
    /// side by side would otherwise both find the same number free before either Xvnc took it.</summary>
    private static int FreeDisplay()
    {
        lock (DisplayGate)
        {
            for (var display = 40 + Random.Shared.Next(0, 200); display < 1000; display++)
            {
                if (!File.Exists($"/tmp/.X11-unix/X{display}") && !File.Exists($"/tmp/.X{display}-lock") && GivenDisplays.Add(display))
                {
                    return display;
                }
            }
        }

        throw new InvalidOperationException("no free X display number");
    }

    private static readonly Lock DisplayGate = new();
    private static readonly HashSet<int> GivenDisplays = [];

    private static async Task MakePasswordFileAsync(string password, string path)
    {
        var start = new ProcessStartInfo("vncpasswd", ["-f"]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.StandardInput.WriteLineAsync(password);
        process.StandardInput.Close();
        await using var file = File.Create(path);
        await process.StandardOutput.BaseStream.CopyToAsync(file);
        await process.WaitForExitAsync();
    }

    /// <summary>Paints the root window <paramref name="colour"/> (xsetroot -solid), so connected viewers get an update.</summary>
    public Task PaintAsync(string colour) => PaintAsync(Display, colour);

    private static async Task PaintAsync(int display, string colour)
    {
        var start = new ProcessStartInfo("xsetroot", ["-solid", colour]) { UseShellExecute = false };
        start.Environment["DISPLAY"] = $":{display}";
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.WaitForExitAsync();
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
