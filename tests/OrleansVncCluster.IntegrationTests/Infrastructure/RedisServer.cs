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
    public static async Task<RedisServer> StartAsync(int? port = null, string? directory = null, string address = "127.0.0.1", string? password = null)
    {
        var redisPort = port ?? Ports.Free();
        var dir = directory ?? Repo.TempDirectory("redis");
        var process = ManagedProcess.Start("redis", "redis-server",
            ["--port", redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", address, "--save", "", "--appendonly", "yes", "--dir", dir,
             .. (password is null ? Array.Empty<string>() : ["--requirepass", password])]);
        await process.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(20));
        return new RedisServer(process, address, redisPort, dir, password);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
