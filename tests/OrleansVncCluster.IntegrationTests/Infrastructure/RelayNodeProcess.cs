using System.Net.Http;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>Settings for one relay node process.</summary>
public sealed record RelayNodeSettings
{
    public string? TokenFile { get; init; }
    public string? RedisConnectionString { get; init; }
    public string SiloName { get; init; } = "node-" + Guid.NewGuid().ToString("N")[..6];
    public Dictionary<string, string?> Environment { get; init; } = [];
    public List<string> ExtraArgs { get; init; } = [];

    /// <summary>A simulated host to run on (its namespace and address); none = the machine itself, on loopback.</summary>
    public NetworkHost? Host { get; init; }

    /// <summary>The node's open-file limit (soft and hard, set by <c>ulimit -n</c> before exec); none = inherited.</summary>
    public int? OpenFileLimit { get; init; }
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

    /// <summary>The address every listener of the node binds and its silo advertises.</summary>
    public string Address => Settings.Host?.Address.ToString() ?? "127.0.0.1";

    /// <summary>ws:// URL of the relay path with a token.</summary>
    public Uri WebSocketUri(string? token) => new(token is null ? $"ws://{Address}:{Port}/websockify" : $"ws://{Address}:{Port}/websockify?token={Uri.EscapeDataString(token)}");

    public Uri HttpUri(string path) => new($"http://{Address}:{Port}{path}");

    public Uri AdminUri(string path) => new($"http://{Address}:{AdminPort}{path}");

    /// <summary>
    /// Starts a node and waits until /readyz answers 200 (its silo joined the cluster). Ports not given are free ones;
    /// give them all to restart a node where HAProxy expects it (<see cref="RestartAsync"/>). With <paramref name="waitReady"/>
    /// false it returns once the process runs, for a node that is expected never to become ready.
    /// </summary>
    public static async Task<RelayNodeProcess> StartAsync(
        RelayNodeSettings settings, int? port = null, int? siloPort = null, int? adminPort = null, int? agentPort = null, bool waitReady = true)
    {
        if (!File.Exists(Repo.RelayExecutable))
        {
            throw new InvalidOperationException($"{Repo.RelayExecutable} is missing: run `make build` first");
        }

        var relayPort = port ?? Ports.Free();
        var admin = adminPort ?? Ports.Free();
        var silo = siloPort ?? Ports.Free();
        var agent = agentPort ?? Ports.Free();
        var adminTokenFile = Path.Combine(Repo.TempDirectory("admin"), "admin-token");
        await File.WriteAllTextAsync(adminTokenFile, AdminToken);
        var address = settings.Host?.Address.ToString() ?? "127.0.0.1";
        var environment = new Dictionary<string, string?>(settings.Environment)
        {
            ["Relay__Listen"] = $"{address}:{relayPort}",
            ["Relay__AdminListen"] = $"{address}:{admin}",
            ["Orleans__Endpoints__SiloPort"] = silo.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans__Endpoints__AdvertisedIPAddress"] = address,
            ["Orleans__SiloName"] = settings.SiloName,
            ["Relay__AgentListen"] = $"{address}:{agent}",
            ["Admin__TokenFile"] = adminTokenFile,
            ["DOTNET_gcServer"] = "0",
        };
        if (settings.RedisConnectionString is not null)
        {
            environment["Redis__ConnectionString"] = settings.RedisConnectionString;
        }

        // Tests poll every 100 ms for a token that a file, another node or the next sync is about to bring: each poll
        // before it lands is an unknown token, and 20 of them would lock the test's client out for a minute, as they
        // should a guesser. The lockout has its own tests (Limits/), which set it.
        environment.TryAdd("Limits__MaxFailedTokens", "0");

        var args = new List<string>();
        if (settings.TokenFile is not null)
        {
            args.Add($"--target-config={settings.TokenFile}");
        }

        args.AddRange(settings.ExtraArgs);
        var (file, argv) = settings.Host is { } host ? host.Command(Repo.RelayExecutable, args) : (Repo.RelayExecutable, args);
        if (settings.OpenFileLimit is { } openFiles)
        {
            // exec: the node keeps bash's process id, so signals and /proc/PID reach the node itself.
            (file, argv) = ("bash", ["-c", $"ulimit -n {openFiles} && exec \"$0\" \"$@\"", file, .. argv]);
        }
        var process = ManagedProcess.Start(settings.SiloName, file, argv, environment);
        var node = new RelayNodeProcess(process, relayPort, admin, silo, agent, settings);
        if (!waitReady)
        {
            return node;
        }

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

    /// <summary>A new process with the same settings and ports (this one must have exited).</summary>
    public Task<RelayNodeProcess> RestartAsync() => StartAsync(Settings, Port, SiloPort, AdminPort, AgentPort);

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
        var http = new HttpClient { BaseAddress = new Uri($"http://{Address}:{AdminPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    /// <summary>What the HAProxy agent port answers.</summary>
    public async Task<string> AskAgentAsync()
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(Address, AgentPort);
        using var reader = new StreamReader(client.GetStream());
        return (await reader.ReadToEndAsync()).Trim();
    }

    /// <summary>
    /// SIGTERM, then as long as the node's own shutdown may take (its drain budget and 15 s, capped at 20 s) before
    /// SIGKILL. A node killed in the middle of leaving the cluster leaves its membership row Active, and a node that
    /// restarts beside it must wait for that row to be declared dead: three nodes stopped at once on a loaded machine
    /// took longer than a flat 10 s and failed the restart that followed.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        var drain = Settings.Environment.TryGetValue("Relay__DrainBudget", out var value) && TimeSpan.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var budget)
            ? budget
            : TimeSpan.FromSeconds(30);
        return Process.StopAsync(TimeSpan.FromSeconds(Math.Min(20, (drain + TimeSpan.FromSeconds(15)).TotalSeconds)));
    }
}
