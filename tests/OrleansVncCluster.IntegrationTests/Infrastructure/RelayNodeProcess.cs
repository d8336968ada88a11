using System.Net.Http;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>Settings for one relay node process.</summary>
public sealed record RelayNodeSettings
{
    public string? TokenFile { get; init; }
    public string? RedisConnectionString { get; init; }
    public string SiloName { get; init; } = "node-" + Guid.NewGuid().ToString("N")[..6];
    public Dictionary<string, string?> Environment { get; init; } = [];
    public List<string> ExtraArgs { get; init; } = [];
}

/// <summary>A published vnc-relay node on free loopback ports.</summary>
public sealed class RelayNodeProcess : IAsyncDisposable
{
    /// <summary>The admin bearer token every test node is started with.</summary>
    public const string AdminToken = "test-admin-token-0123456789";

    private RelayNodeProcess(ManagedProcess process, int port, int adminPort, int siloPort, int agentPort, RelayNodeSettings settings)
    {
        AgentPort = agentPort;
        Process = process;
        Port = port;
        AdminPort = adminPort;
        SiloPort = siloPort;
        Settings = settings;
    }

    public ManagedProcess Process { get; }
    public int Port { get; }
    public int AdminPort { get; }
    public int SiloPort { get; }
    public int AgentPort { get; }
    public RelayNodeSettings Settings { get; }

    /// <summary>ws:// URL of the relay path with a token.</summary>
    public Uri WebSocketUri(string? token) => new(token is null ? $"ws://127.0.0.1:{Port}/websockify" : $"ws://127.0.0.1:{Port}/websockify?token={Uri.EscapeDataString(token)}");

    public Uri HttpUri(string path) => new($"http://127.0.0.1:{Port}{path}");

    public Uri AdminUri(string path) => new($"http://127.0.0.1:{AdminPort}{path}");

    /// <summary>Starts a node and waits until /readyz answers 200 (its silo joined the cluster).</summary>
    public static async Task<RelayNodeProcess> StartAsync(RelayNodeSettings settings, int? port = null, int? siloPort = null)
    {
        if (!File.Exists(Repo.RelayExecutable))
        {
            throw new InvalidOperationException($"{Repo.RelayExecutable} is missing: run `make build` first");
        }

        var relayPort = port ?? Ports.Free();
        var adminPort = Ports.Free();
        var silo = siloPort ?? Ports.Free();
        var agentPort = Ports.Free();
        var adminTokenFile = Path.Combine(Repo.TempDirectory("admin"), "admin-token");
        await File.WriteAllTextAsync(adminTokenFile, AdminToken);
        var environment = new Dictionary<string, string?>(settings.Environment)
        {
            ["Relay__Listen"] = $"127.0.0.1:{relayPort}",
            ["Relay__AdminListen"] = $"127.0.0.1:{adminPort}",
            ["Orleans__Endpoints__SiloPort"] = silo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__Endpoints__AdvertisedIPAddress"] = "127.0.0.1",
            ["Orleans__SiloName"] = settings.SiloName,
            ["Relay__AgentListen"] = $"127.0.0.1:{agentPort}",
            ["Admin__TokenFile"] = adminTokenFile,
            ["DOTNET_gcServer"] = "0",
        };
        if (settings.RedisConnectionString is not null)
        {
            environment["Redis__ConnectionString"] = settings.RedisConnectionString;
        }

        var args = new List<string>();
        if (settings.TokenFile is not null)
        {
            args.Add($"--target-config={settings.TokenFile}");
        }

        args.AddRange(settings.ExtraArgs);
        var process = ManagedProcess.Start(settings.SiloName, Repo.RelayExecutable, args, environment);
        var node = new RelayNodeProcess(process, relayPort, adminPort, silo, agentPort, settings);
        try
        {
            await node.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return node;
    }

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.HoldsAsync(async () =>
        {
            if (Process.HasExited)
            {
                return true; // reported below: Eventually would retry a throw until the timeout
            }

            using var response = await http.GetAsync(AdminUri("/readyz"));
            return response.IsSuccessStatusCode;
        }, timeout, $"node {Settings.SiloName} answers /readyz with 200");
        if (Process.HasExited)
        {
            throw new InvalidOperationException($"node {Settings.SiloName} exited with {Process.ExitCode}:\n{Process.Tail()}");
        }
    }

    /// <summary>An HTTP client for the admin API with the admin token.</summary>
    public HttpClient AdminClient()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{AdminPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    /// <summary>What the HAProxy agent port answers.</summary>
    public async Task<string> AskAgentAsync()
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", AgentPort);
        using var reader = new StreamReader(client.GetStream());
        return (await reader.ReadToEndAsync()).Trim();
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
