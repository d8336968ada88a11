namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A throw-away redis-server on a free loopback port, with AOF in its own directory.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private RedisServer(ManagedProcess process, string address, int port, string directory, string? password)
    {
        Address = address;
        Password = password;
        Process = process;
        Port = port;
        Directory = directory;
    }

    public ManagedProcess Process { get; }
    public string Address { get; }
    public string? Password { get; }
    public int Port { get; }
    public string Directory { get; }
    public string ConnectionString => Password is null ? $"{Address}:{Port}" : $"{Address}:{Port},password={Password}";

    /// <summary>
    /// Starts redis-server on <paramref name="address"/> (default loopback). Redis only accepts clients from other
    /// addresses (e.g. simulated hosts behind a bridge) with a <paramref name="password"/>, as in production.
    /// </summary>
    public static Task<RedisServer> StartAsync(int? port = null, string? directory = null, string address = "127.0.0.1", string? password = null) =>
        StartCoreAsync(port, directory, address, password, password is null ? [] : [$"requirepass {password}"], tls: false);

    /// <summary>
    /// Starts redis-server with <paramref name="lines"/> added to its config file. With <paramref name="tls"/> the port
    /// is a TLS port.
    /// </summary>
    public static Task<RedisServer> StartWithConfigAsync(IEnumerable<string> lines, bool tls = false) =>
        StartCoreAsync(null, null, "127.0.0.1", null, lines, tls);

    /// <summary>Every setting goes in a config file, so secrets (requirepass) never appear on redis-server's command line.</summary>
    private static async Task<RedisServer> StartCoreAsync(int? port, string? directory, string address, string? password, IEnumerable<string> lines, bool tls)
    {
        var redisPort = port ?? Ports.Free();
        var dir = directory ?? Repo.TempDirectory("redis");
        var portText = redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var config = Path.Combine(dir, "redis.conf");
        await File.WriteAllLinesAsync(config,
            [.. (tls ? new[] { "port 0", $"tls-port {portText}" } : new[] { $"port {portText}" }), $"bind {address}", "save \"\"", "appendonly yes", $"dir {dir}", .. lines]);
        var process = ManagedProcess.Start("redis", "redis-server", [config]);
        await process.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(20));
        return new RedisServer(process, address, redisPort, dir, password);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
