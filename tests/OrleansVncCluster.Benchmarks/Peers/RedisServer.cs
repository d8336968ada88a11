using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// A throwaway redis-server for the Redis-backed node (peer "relay (redis)"): loopback only, no persistence (AOF off, no
/// RDB snapshots), its files in a temp directory, stopped by PID.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly PeerProcess _process;
    private readonly string _directory;

    private RedisServer(PeerProcess process, int port, string directory)
    {
        _process = process;
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    public PeerProcess Process => _process;

    public string ConnectionString => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public static async Task<RedisServer> StartAsync(string logDir)
    {
        var port = FreePorts.Next();
        var directory = Directory.CreateTempSubdirectory("vnc-bench-redis-").FullName;
        var process = PeerProcess.Start("redis-server", "redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--appendonly", "no", "--save", "",
             "--dir", directory, "--protected-mode", "yes"],
            Path.Combine(logDir, "redis-server.log"));
        var server = new RedisServer(process, port, directory);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(20));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still being written as the server stopped: the temp directory is left for the system to clean.
        }
    }
}
