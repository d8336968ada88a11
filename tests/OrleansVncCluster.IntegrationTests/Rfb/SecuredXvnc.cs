using System.Diagnostics;
using System.Globalization;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Rfb;

/// <summary>A real TigerVNC server (Xvnc) with any -SecurityTypes list, a VNC password and optionally an X.509
/// certificate, for the relay's own RFB login. <see cref="XvncServer"/> covers only None and VncAuth.</summary>
public sealed class SecuredXvnc : IAsyncDisposable
{
    private SecuredXvnc(ManagedProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public ManagedProcess Process { get; }
    public int Port { get; }

    public static async Task<SecuredXvnc> StartAsync(string securityTypes, string password, (string Certificate, string Key)? x509 = null, int width = 640, int height = 480)
    {
        var display = FreeDisplay();
        var port = Ports.Free();
        var directory = Repo.TempDirectory("xvnc-rfb");
        var passwordFile = Path.Combine(directory, "passwd");
        await MakePasswordFileAsync(password, passwordFile);
        var args = new List<string>
        {
            $":{display}", "-rfbport", port.ToString(CultureInfo.InvariantCulture), "-localhost", "-interface", "127.0.0.1",
            "-geometry", $"{width}x{height}", "-depth", "24", "-BlacklistThreshold", "1000000", "-AlwaysShared",
            "-SecurityTypes", securityTypes, "-PasswordFile", passwordFile,
        };
        if (x509 is { } files)
        {
            args.AddRange(["-X509Cert", files.Certificate, "-X509Key", files.Key]);
        }

        var process = ManagedProcess.Start($"xvnc{display}", "Xvnc", args);
        await Eventually.HoldsAsync(() => process.HasExited || (File.Exists($"/tmp/.X11-unix/X{display}") && CanConnect(port)),
            TimeSpan.FromSeconds(20), $"Xvnc :{display} listens on {port}");
        Assert.False(process.HasExited, $"Xvnc :{display} exited: {process.Output}");
        return new SecuredXvnc(process, port);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

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
}
