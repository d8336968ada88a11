using System.Globalization;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A Sentinel-managed Redis on loopback, as docs/OPERATIONS.md describes it: a primary and one replica (both with AOF)
/// and three redis-sentinel processes (Debian's redis-sentinel) with a quorum of two, which promote the replica when the
/// primary stops answering for <see cref="DownAfter"/>. Nodes connect with <see cref="ConnectionString"/>, which names
/// only the sentinels: they can reach the primary only by asking them. Data nodes and sentinels share one password, as
/// docs/OPERATIONS.md advises; it is only ever in config files and the connection string, never on a command line.
/// </summary>
public sealed class RedisSentinelGroup : IAsyncDisposable
{
    /// <summary>The name the sentinels monitor the primary under (serviceName= in the connection string).</summary>
    public const string ServiceName = "mymaster";

    /// <summary>How long the primary must be silent before a sentinel calls it down (sentinel down-after-milliseconds).</summary>
    public static readonly TimeSpan DownAfter = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly List<(ManagedProcess Process, int Port)> _sentinels = [];

    private RedisSentinelGroup(RedisServer primary, RedisServer replica, string password)
    {
        Primary = primary;
        Replica = replica;
        Password = password;
    }

    /// <summary>The password of the data nodes and the sentinels.</summary>
    public string Password { get; }

    /// <summary>The primary the group started with.</summary>
    public RedisServer Primary { get; }

    /// <summary>The replica the group started with: the primary after a failover.</summary>
    public RedisServer Replica { get; }

    /// <summary>StackExchange.Redis' Sentinel form: the sentinels' endpoints and the service name, no data node.</summary>
    public string ConnectionString =>
        string.Join(",", _sentinels.Select(s => $"127.0.0.1:{s.Port.ToString(CultureInfo.InvariantCulture)}")) + $",serviceName={ServiceName},password={Password}";

    /// <summary>A connection string for <paramref name="server"/> alone, to read what it holds.</summary>
    public string Direct(RedisServer server) => $"127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)},password={Password}";

    /// <summary>Starts the primary, the replica (and waits for its first sync), then three sentinels that know both and each other.</summary>
    public static async Task<RedisSentinelGroup> StartAsync()
    {
        var password = "sentinel-" + Guid.NewGuid().ToString("N");
        string[] auth = [$"requirepass {password}", $"masterauth {password}"];
        var primary = await RedisServer.StartWithConfigAsync(auth);
        RedisSentinelGroup? group = null;
        try
        {
            var replica = await RedisServer.StartWithConfigAsync([.. auth, $"replicaof 127.0.0.1 {primary.Port.ToString(CultureInfo.InvariantCulture)}"]);
            group = new RedisSentinelGroup(primary, replica, password);
            await replica.Process.WaitForOutputAsync("MASTER <-> REPLICA sync: Finished with success", StartTimeout);
            for (var i = 0; i < 3; i++)
            {
                group.StartSentinel(i);
            }

            // A failover needs a quorum that knows the replica and the other sentinels (hello messages every 2 s).
            foreach (var (sentinel, _) in group._sentinels)
            {
                await sentinel.WaitForOutputAsync($"+slave slave 127.0.0.1:{replica.Port.ToString(CultureInfo.InvariantCulture)}", StartTimeout);
                await Eventually.HoldsAsync(() => Count(sentinel.Output, "+sentinel sentinel") >= 2, StartTimeout,
                    $"{sentinel.Name} has discovered the two other sentinels");
            }

            return group;
        }
        catch
        {
            if (group is not null)
            {
                await group.DisposeAsync();
            }
            else
            {
                await primary.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Waits until a sentinel announces that the replica replaced the primary (+switch-master).</summary>
    public Task WaitForFailoverAsync(TimeSpan timeout)
    {
        var announcement = $"+switch-master {ServiceName} 127.0.0.1 {Primary.Port.ToString(CultureInfo.InvariantCulture)} 127.0.0.1 {Replica.Port.ToString(CultureInfo.InvariantCulture)}";
        return Eventually.HoldsAsync(() => _sentinels.Any(s => s.Process.Output.Contains(announcement, StringComparison.Ordinal)), timeout,
            $"a sentinel announces '{announcement}'");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (sentinel, _) in _sentinels)
        {
            await sentinel.DisposeAsync();
        }

        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A sentinel rewrites its config file as it learns, so each gets its own file in its own directory.</summary>
    private void StartSentinel(int index)
    {
        var port = Ports.Free();
        var directory = Repo.TempDirectory("sentinel");
        var config = Path.Combine(directory, "sentinel.conf");
        var portText = port.ToString(CultureInfo.InvariantCulture);
        File.WriteAllLines(config,
        [
            $"port {portText}",
            "bind 127.0.0.1",
            $"dir {directory}",
            $"sentinel monitor {ServiceName} 127.0.0.1 {Primary.Port.ToString(CultureInfo.InvariantCulture)} 2",
            $"sentinel down-after-milliseconds {ServiceName} {DownAfter.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}",
            $"sentinel failover-timeout {ServiceName} 10000",
            $"sentinel parallel-syncs {ServiceName} 1",
            $"sentinel auth-pass {ServiceName} {Password}",
            $"requirepass {Password}",
        ]);
        _sentinels.Add((ManagedProcess.Start($"sentinel{index + 1}", "redis-sentinel", [config]), port));
    }
}
