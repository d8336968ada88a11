using System.Globalization;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// A throwaway redis-server for the Redis-backed node (peer "relay (redis)"): loopback only, no persistence (AOF off, no
/// RDB snapshots), its files in a temp directory, stopped by PID.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly PeerProcess _process;
    private readonly string _directory;

    private RedisServer(PeerProcess process, string address, int port, string directory)
    {
        _process = process;
        Address = address;
        Port = port;
        _directory = directory;
    }

    /// <summary>127.0.0.1, or the bridge address that simulated hosts reach.</summary>
    public string Address { get; }

    public int Port { get; }

    public PeerProcess Process => _process;

    public string ConnectionString => Address + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <param name="address">Where to listen: loopback, or the private bridge of the simulated hosts (silent-host), where
    /// protected mode (which refuses every client but loopback while there is no password) is turned off.</param>
    public static async Task<RedisServer> StartAsync(string logDir, string address = "127.0.0.1")
    {
        var port = Ports.Free();
        var directory = Directory.CreateTempSubdirectory("vnc-bench-redis-").FullName;
        var process = PeerProcess.Start("redis-server", "redis-server",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", address, "--appendonly", "no", "--save", "",
             "--dir", directory, "--protected-mode", address == "127.0.0.1" ? "yes" : "no"],
            Path.Combine(logDir, "redis-server.log"));
        var server = new RedisServer(process, address, port, directory);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(20), address);
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
