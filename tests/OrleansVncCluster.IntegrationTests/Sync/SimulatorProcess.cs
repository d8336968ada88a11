using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sync;

/// <summary>The published abiquo-simulator on a free loopback port, its password in a file, driven by its admin API.</summary>
public sealed class SimulatorProcess : IAsyncDisposable
{
    public const string User = "admin";

    private readonly HttpClient _admin;

    private SimulatorProcess(ManagedProcess process, int port, string passwordFile, string password)
    {
        Process = process;
        Port = port;
        PasswordFile = passwordFile;
        _admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{password}")));
    }

    public ManagedProcess Process { get; }

    public int Port { get; }

    /// <summary>A file holding the password, as nodes are given it (Abiquo__PasswordFile).</summary>
    public string PasswordFile { get; }

    public string ApiUrl => $"http://127.0.0.1:{Port}/api";

    /// <summary>The token Abiquo's own console page computes for the VM at 127.0.0.1:<paramref name="vncPort"/>: md5("vdrpIP:vdrpPort").</summary>
    public static string TokenOf(int vncPort) =>
        Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes($"127.0.0.1:{vncPort}")));

    /// <summary>Starts the simulator with no generated VMs and one ON VM per VNC target, and waits until it listens.</summary>
    public static async Task<SimulatorProcess> StartAsync(params int[] vncTargetPorts)
    {
        if (!File.Exists(Repo.SimulatorExecutable))
        {
            throw new InvalidOperationException($"{Repo.SimulatorExecutable} is missing: run `make build` first");
        }

        var password = "sim-" + Guid.NewGuid().ToString("N")[..12];
        var passwordFile = Path.Combine(Repo.TempDirectory("sim"), "password");
        await File.WriteAllTextAsync(passwordFile, password);
        var port = Ports.Free();
        var args = new List<string> { "--urls", $"http://127.0.0.1:{port}", "--vms", "0", "--enterprises", "1", "--password-file", passwordFile };
        foreach (var target in vncTargetPorts)
        {
            args.AddRange(["--vnc-target", $"127.0.0.1:{target}"]);
        }

        var process = ManagedProcess.Start("abiquo-simulator", Repo.SimulatorExecutable, args);
        try
        {
            await process.WaitForOutputAsync("Abiquo API at", TimeSpan.FromSeconds(30));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new SimulatorProcess(process, port, passwordFile, password);
    }

    /// <summary>Adds an ON VM whose console is at 127.0.0.1:<paramref name="vncPort"/>, as a new VM deployed in Abiquo.</summary>
    public async Task AddVmAtAsync(int vncPort)
    {
        using var response = await _admin.PostAsJsonAsync("/_sim/vms", new { vdrpIP = "127.0.0.1", vdrpPort = vncPort, state = "ON" });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Deletes the VM whose console is at 127.0.0.1:<paramref name="vncPort"/>.</summary>
    public async Task RemoveVmAtAsync(int vncPort)
    {
        var vms = await _admin.GetFromJsonAsync<JsonElement>("/_sim/vms");
        var id = vms.EnumerateArray().Single(vm => vm.GetProperty("vdrpPort").GetInt32() == vncPort).GetProperty("id").GetInt32();
        using var response = await _admin.DeleteAsync($"/_sim/vms/{id}");
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await Process.DisposeAsync();
    }
}
