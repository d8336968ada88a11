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

    private SimulatorProcess(ManagedProcess process, string address, int port, string passwordFile, string password)
    {
        Process = process;
        Address = address;
        Port = port;
        PasswordFile = passwordFile;
        _admin = new HttpClient { BaseAddress = new Uri($"http://{address}:{port}") };
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{password}")));
    }

    public ManagedProcess Process { get; }

    /// <summary>The address it listens on (loopback unless a test puts it on a bridge that simulated hosts reach).</summary>
    public string Address { get; }

    public int Port { get; }

    /// <summary>A file holding the password, as nodes are given it (Abiquo__PasswordFile).</summary>
    public string PasswordFile { get; }

    public string ApiUrl => $"http://{Address}:{Port}/api";

    /// <summary>
    /// The environment a node needs to sync from this simulator every second (the Abiquo__* settings, the password from
    /// its file), to which a test adds its own settings.
    /// </summary>
    public Dictionary<string, string?> NodeEnvironment() => new()
    {
        ["Abiquo__ApiUrl"] = ApiUrl,
        ["Abiquo__User"] = User,
        ["Abiquo__PasswordFile"] = PasswordFile,
        ["Sync__Interval"] = "00:00:01",
        ["Sync__KeeperInterval"] = "00:00:01",
    };

    /// <summary>The token Abiquo's own console page computes for the VM at 127.0.0.1:<paramref name="vncPort"/>: md5("vdrpIP:vdrpPort").</summary>
    public static string TokenOf(int vncPort) => TokenOf("127.0.0.1", vncPort);

    /// <summary>The token of the VM whose console is at <paramref name="vdrpIP"/>:<paramref name="vncPort"/>.</summary>
    public static string TokenOf(string vdrpIP, int vncPort) =>
        Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes($"{vdrpIP}:{vncPort}")));

    /// <summary>Starts the simulator on loopback with no generated VMs and one ON VM per VNC target at 127.0.0.1, and waits until it listens.</summary>
    public static Task<SimulatorProcess> StartAsync(params int[] vncTargetPorts) =>
        StartOnAsync("127.0.0.1", "127.0.0.1", vncTargetPorts);

    /// <summary>
    /// Starts the simulator listening on <paramref name="address"/>, with one ON VM per VNC target at
    /// <paramref name="vdrpIP"/> (e.g. a bridge address that simulated hosts reach), and waits until it listens.
    /// </summary>
    public static Task<SimulatorProcess> StartOnAsync(string address, string vdrpIP, params int[] vncTargetPorts) =>
        StartWithTargetsAsync(address, [.. vncTargetPorts.Select(port => $"{vdrpIP}:{port}")]);

    /// <summary>
    /// Starts the simulator listening on <paramref name="address"/> with one ON VM per <c>HOST:PORT[:VNCPASSWORD]</c>
    /// target (a VM whose console has a VNC password, as Abiquo's vdrpPassword gives it), and waits until it listens.
    /// </summary>
    public static async Task<SimulatorProcess> StartWithTargetsAsync(string address, params string[] vncTargets)
    {
        if (!File.Exists(Repo.SimulatorExecutable))
        {
            throw new InvalidOperationException($"{Repo.SimulatorExecutable} is missing: run `make build` first");
        }

        var password = "sim-" + Guid.NewGuid().ToString("N")[..12];
        var passwordFile = Path.Combine(Repo.TempDirectory("sim"), "password");
        await File.WriteAllTextAsync(passwordFile, password);
        var port = Ports.Free();
        var args = new List<string> { "--urls", $"http://{address}:{port}", "--vms", "0", "--enterprises", "1", "--password-file", passwordFile };
        foreach (var target in vncTargets)
        {
            args.AddRange(["--vnc-target", target]);
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

        return new SimulatorProcess(process, address, port, passwordFile, password);
    }

    /// <summary>Adds an ON VM whose console is at <paramref name="vdrpIP"/>:<paramref name="vncPort"/>, as a new VM deployed in Abiquo.</summary>
    public async Task AddVmAtAsync(int vncPort, string vdrpIP = "127.0.0.1")
    {
        using var response = await _admin.PostAsJsonAsync("/_sim/vms", new { vdrpIP, vdrpPort = vncPort, state = "ON" });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Deletes the VM whose console is at 127.0.0.1:<paramref name="vncPort"/>.</summary>
    public async Task RemoveVmAtAsync(int vncPort)
    {
        using var response = await _admin.DeleteAsync($"/_sim/vms/{await VmIdAtAsync(vncPort)}");
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Moves the VM whose console is at port <paramref name="fromPort"/> so that its console is at
    /// <paramref name="vdrpIP"/>:<paramref name="toPort"/>, as a live migration to another hypervisor does in Abiquo.
    /// </summary>
    public async Task MoveVmAsync(int fromPort, string vdrpIP, int toPort)
    {
        using var response = await _admin.PostAsJsonAsync($"/_sim/vms/{await VmIdAtAsync(fromPort)}/move", new { vdrpIP, vdrpPort = toPort });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Adds a tenant; its id.</summary>
    public async Task<int> AddEnterpriseAsync(string name)
    {
        using var response = await _admin.PostAsJsonAsync("/_sim/enterprises", new { name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    /// <summary>Adds an ON VM of enterprise <paramref name="enterpriseId"/> with its console at 127.0.0.1:<paramref name="vncPort"/>; its id.</summary>
    public async Task<int> AddVmAsync(int enterpriseId, int vncPort)
    {
        using var response = await _admin.PostAsJsonAsync("/_sim/vms", new { enterpriseId, vdrpIP = "127.0.0.1", vdrpPort = vncPort, state = "ON" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
    }

    /// <summary>Moves the VM <paramref name="vmId"/> so its console is at 127.0.0.1:<paramref name="toPort"/>.</summary>
    public async Task MoveVmByIdAsync(int vmId, int toPort)
    {
        using var response = await _admin.PostAsJsonAsync($"/_sim/vms/{vmId}/move", new { vdrpIP = "127.0.0.1", vdrpPort = toPort });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The id of the VM whose console is at port <paramref name="vncPort"/>.</summary>
    public async Task<int> VmIdAtAsync(int vncPort)
    {
        var vms = await _admin.GetFromJsonAsync<JsonElement>("/_sim/vms");
        return vms.EnumerateArray().Single(vm => vm.GetProperty("vdrpPort").GetInt32() == vncPort).GetProperty("id").GetInt32();
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        await Process.DisposeAsync();
    }
}
