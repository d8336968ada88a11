using System.Net;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Where HAProxy 2.6 sends a client under haproxy.cfg's <c>balance source</c> + <c>hash-type consistent</c>, so a test
/// can pick client addresses that land on the node it wants instead of opening sessions until they happen to spread
/// (which failed on a fresh machine: 40 attempts, none on node 1).
/// </summary>
/// <remarks>
/// The model, from HAProxy's sources (lb_chash.c, backend.c, cfgparse-listen.c): <c>hash-type consistent</c> without a
/// function means sdbm with the avalanche modifier, so an IPv4 client hashes to <c>full_hash(address)</c>. Each server
/// of weight 1 owns 16 points on the ring, point <c>n</c> of server id <c>i</c> at <c>full_hash(i * 4096 + n)</c>, and a
/// client goes to the point closest to its hash. A server in slow start (60 s after it comes back) has only its first
/// points on the ring, never fewer than point 0, and a server that already carries its share of sessions is skipped
/// (hash-balance-factor). So a client whose closest point of the whole ring is point 0 of a server that carries no
/// session lands on that server whatever the other servers' slow start: <see cref="SourceFor"/> picks such clients.
/// </remarks>
public static class HaproxySourceHash
{
    private const int PointsPerServer = 16;
    private const uint ServerIdSpacing = 4096;

    /// <summary>
    /// The first loopback address at or after <paramref name="cursor"/> (127.0.x.y, counted from 127.0.0.2) whose closest
    /// ring point is point 0 of server id <paramref name="serverId"/> among servers 1..<paramref name="serverCount"/>;
    /// advances <paramref name="cursor"/> past it.
    /// </summary>
    public static IPAddress SourceFor(int serverId, int serverCount, ref int cursor)
    {
        var ring = Ring(serverCount);
        for (var attempts = 0; attempts < 100_000; attempts++)
        {
            var address = Loopback(cursor++);
            var (id, point) = Closest(ring, FullHash(ToUInt32(address)));
            if (id == serverId && point == 0)
            {
                return address;
            }
        }

        throw new InvalidOperationException($"no loopback address anchors at point 0 of server {serverId}");
    }

    /// <summary>The server id HAProxy picks for <paramref name="source"/> when every server is up at full weight and idle.</summary>
    public static int ServerOf(IPAddress source, int serverCount) => Closest(Ring(serverCount), FullHash(ToUInt32(source))).Id;

    /// <summary>HAProxy's <c>full_hash</c> (Bob Jenkins' integer avalanche, then a multiply that spreads it over the ring).</summary>
    public static uint FullHash(uint a)
    {
        unchecked
        {
            a = a + 0x7ed55d16 + (a << 12);
            a = a ^ 0xc761c23c ^ (a >> 19);
            a = a + 0x165667b1 + (a << 5);
            a = (a + 0xd3a2646c) ^ (a << 9);
            a = a + 0xfd7046c5 + (a << 3);
            a = a ^ 0xb55a4f09 ^ (a >> 16);
            return a * 3221225473U;
        }
    }

    private static IPAddress Loopback(int n) => IPAddress.Parse($"127.0.{n / 250}.{(n % 250) + 2}");

    private static uint ToUInt32(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }

    private static (uint Key, int Id, int Point)[] Ring(int serverCount) =>
        [.. Enumerable.Range(1, serverCount)
            .SelectMany(id => Enumerable.Range(0, PointsPerServer).Select(point => (Key: FullHash(unchecked((uint)id * ServerIdSpacing + (uint)point)), Id: id, Point: point)))];

    /// <summary>The point nearest to <paramref name="hash"/> going either way round the ring (ties are unlikely and ignored).</summary>
    private static (int Id, int Point) Closest((uint Key, int Id, int Point)[] ring, uint hash)
    {
        var best = ring[0];
        var bestDistance = uint.MaxValue;
        foreach (var entry in ring)
        {
            var distance = Math.Min(unchecked(hash - entry.Key), unchecked(entry.Key - hash));
            if (distance < bestDistance)
            {
                (best, bestDistance) = (entry, distance);
            }
        }

        return (best.Id, best.Point);
    }
}
