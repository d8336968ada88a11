namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A throw-away redis-server on a free loopback port, with AOF in its own directory.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private RedisServer(ManagedProcess process, int port, string directory)
    {
        Process = process;
        Port = port;
        Directory = directory;
    }

    public ManagedProcess Process { get; }
    public int Port { get; }
    public string Directory { get; }
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(int? port = null, string? directory = null)
    {
        var redisPort = port ?? Ports.Free();
        var dir = directory ?? Repo.TempDirectory("redis");
        var process = ManagedProcess.Start("redis", "redis-server",
            ["--port", redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir]);
        await process.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(20));
        return new RedisServer(process, redisPort, dir);
    }

    /// <summary>
    /// Starts redis-server from a config file holding <paramref name="lines"/> besides the usual throw-away settings, so
    /// secrets (requirepass) never appear on its command line. With <paramref name="tls"/> the port is a TLS port.
    /// </summary>
    public static async Task<RedisServer> StartWithConfigAsync(IEnumerable<string> lines, bool tls = false)
    {
        var redisPort = Ports.Free();
        var dir = Repo.TempDirectory("redis");
        var port = redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var config = Path.Combine(dir, "redis.conf");
        await File.WriteAllLinesAsync(config, [.. (tls ? new[] { "port 0", $"tls-port {port}" } : new[] { $"port {port}" }), "bind 127.0.0.1", "save \"\"", "appendonly yes", $"dir {dir}", .. lines]);
        var process = ManagedProcess.Start("redis", "redis-server", [config]);
        await process.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(20));
        return new RedisServer(process, redisPort, dir);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
