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

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
