using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// The Abiquo simulator (src/OrleansVncCluster.AbiquoSimulator) as a child process on a loopback port, seed 1, with its
/// admin API (<c>/_sim</c>, Basic credentials of the administrator) for changing the inventory while it runs.
/// </summary>
internal sealed class AbiquoSimulator : IAsyncDisposable
{
    /// <summary>The administrator account the simulator and the node both use.</summary>
    public const string User = "admin";

    private readonly PeerProcess _process;
    private readonly string _password;

    private AbiquoSimulator(PeerProcess process, int port, string password)
    {
        _process = process;
        Port = port;
        _password = password;
    }

    public int Port { get; }

    public int Pid => _process.Pid;

    /// <summary>What the node's <c>Abiquo:ApiUrl</c> is set to.</summary>
    public string ApiUrl => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/api";

    /// <summary>A random password for the simulator and the node, in a file: never on a command line.</summary>
    public static async Task<string> WritePasswordFileAsync(string workDirectory)
    {
        var file = Path.Combine(workDirectory, "abiquo-password");
        await File.WriteAllTextAsync(file, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) + "\n");
        return file;
    }

    /// <summary>Starts a simulator with <paramref name="vms"/> VMs in <paramref name="enterprises"/> enterprises (each
    /// enterprise's VMs are one page for the node) and returns once it listens.</summary>
    public static async Task<AbiquoSimulator> StartAsync(string path, int port, int vms, int enterprises, string passwordFile, string logFile)
    {
        var process = PeerProcess.Start("abiquo-simulator", path,
            ["--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--vms", vms.ToString(CultureInfo.InvariantCulture),
             "--enterprises", enterprises.ToString(CultureInfo.InvariantCulture), "--seed", "1", "--password-file", passwordFile],
            logFile);
        try
        {
            // It generates the whole inventory before it listens: 100,000 VMs take a while on a busy machine, and
            // 1,000,000 ten times as long.
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(Math.Max(120, vms / 2_000.0)));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new AbiquoSimulator(process, port, (await File.ReadAllTextAsync(passwordFile)).TrimEnd('\r', '\n'));
    }

    /// <summary>Gives every <paramref name="every"/>-th deployed VM a new VNC port (its old token goes, a new one
    /// comes); returns how many VMs moved.</summary>
    public async Task<int> RenumberConsolesAsync(int every)
    {
        using var http = AdminClient(TimeSpan.FromMinutes(2));
        using var response = await http.PostAsJsonAsync(new Uri($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/_sim/vms/renumber-consoles"), new { every });
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadFromJsonAsync<Renumbered>();
        return answer?.Moved ?? 0;
    }

    /// <summary>
    /// Reads every enterprise's VM list once, as the node's sync does, and returns the bytes read. The simulator keeps
    /// each list as written until its inventory changes, so the sync measured next is served what is kept: a real Abiquo
    /// runs on other hosts, and writing the lists again would put its CPU on the cores the node and the sessions share.
    /// </summary>
    public async Task<long> ReadInventoryAsync()
    {
        using var http = AdminClient(TimeSpan.FromMinutes(5));
        using var list = new HttpRequestMessage(HttpMethod.Get, new Uri($"{ApiUrl}/admin/enterprises?limit=0"));
        list.Headers.Accept.ParseAdd("application/vnd.abiquo.enterprises+json");
        using var answer = await http.SendAsync(list);
        answer.EnsureSuccessStatusCode();
        using var enterprises = JsonDocument.Parse(await answer.Content.ReadAsStreamAsync());
        var bytes = 0L;
        var buffer = new byte[64 * 1024];
        foreach (var enterprise in enterprises.RootElement.GetProperty("collection").EnumerateArray())
        {
            var id = enterprise.GetProperty("id").GetInt32().ToString(CultureInfo.InvariantCulture);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{ApiUrl}/admin/enterprises/{id}/action/virtualmachines?limit=0"));
            request.Headers.Accept.ParseAdd("application/vnd.abiquo.virtualmachines+json");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
            }
        }

        return bytes;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>A client with the administrator's credentials, never through a proxy.</summary>
    private HttpClient AdminClient(TimeSpan timeout)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{_password}")));
        return http;
    }

    private sealed record Renumbered(int Moved);
}
