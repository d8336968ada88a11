using System.Net;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Address and network helpers: the client key limits count by, and CIDR matching that treats IPv4-mapped IPv6 as IPv4.</summary>
public static class Networks
{
    /// <summary>Parses "10.0.0.0/8", "fd00::/8", a bare address (one host), or "::ffff:10.0.0.0/104" (read as 10.0.0.0/8).</summary>
    public static bool TryParse(string? text, out IPNetwork network)
    {
        network = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var host))
            {
                return false;
            }

            host = Normalize(host);
            network = new IPNetwork(host, host.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        if (!IPNetwork.TryParse(text, out network))
        {
            return false;
        }

        if (network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
        {
            network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
        }

        return true;
    }

    /// <summary>IPv4-mapped IPv6 (::ffff:a.b.c.d, what dual-stack sockets report) becomes the IPv4 address it carries.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Whether <paramref name="address"/> lies in any of <paramref name="networks"/>.</summary>
    public static bool Contains(IReadOnlyList<IPNetwork> networks, IPAddress address)
    {
        address = Normalize(address);
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The key a client is counted under: its IPv4 address, or its IPv6 prefix (a host picks any address of its /64 at
    /// will, so counting single IPv6 addresses would be no limit at all). Unparsable text is its own key.
    /// </summary>
    public static string ClientKey(string client, int ipv6PrefixLength)
    {
        if (!IPAddress.TryParse(client, out var address))
        {
            return client;
        }

        address = Normalize(address);
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || ipv6PrefixLength >= 128)
        {
            return address.ToString();
        }

        return new IPNetwork(Mask(address, ipv6PrefixLength), ipv6PrefixLength).ToString();
    }

    /// <summary>Prefix length of an IPv6 site: what a provider routes to one customer (RFC 6177 recommends /48 and up).</summary>
    public const int IPv6SitePrefixLength = 48;

    /// <summary>The /48 an IPv6 client belongs to ("2001:db8:1::/48"); null for IPv4 and unparsable text.</summary>
    public static string? SiteKey(string client)
    {
        if (!IPAddress.TryParse(client, out var address))
        {
            return null;
        }

        address = Normalize(address);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? new IPNetwork(Mask(address, IPv6SitePrefixLength), IPv6SitePrefixLength).ToString()
            : null;
    }

    private static IPAddress Mask(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        for (var bit = prefixLength; bit < 128; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPAddress(bytes);
    }
}
