using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Which console targets may be dialled. Token entries come from Abiquo or token files; a poisoned answer must not turn
/// the relay into a tunnel to a cloud metadata service, Redis, silo ports or the admin API (issue 12, item 8). Whatever
/// the configuration, a host name is resolved first and EVERY address is checked (one bad A record is enough to refuse),
/// and the session then dials the checked address, never the name again, so a DNS answer that changes in between
/// (rebinding) cannot slip past. Always refused, even with no allow-list: link-local (169.254.0.0/16, fe80::/10, where
/// cloud metadata lives), 0.0.0.0/8, <c>::</c>, multicast and broadcast; the node's own listeners on its own addresses
/// or loopback; every cluster member's silo endpoint (from membership); the cluster's Redis endpoints. With
/// Limits:AllowedTargetNetworks set, every address must also lie in it. Loopback is otherwise allowed when the list is
/// empty, so `make run`'s demo desktop on 127.0.0.1:5901 keeps working; a list that does not name loopback refuses it.
/// Unix-socket targets only come from operator-written token files, never from Abiquo, and are not network targets:
/// the policy does not apply to them.
/// </summary>
public sealed class TargetPolicy
{
    private readonly IOptionsMonitor<LimitsOptions> _options;
    private readonly IClusterMembershipService? _membership;
    private readonly HashSet<int> _ownPorts;
    private readonly Lazy<HashSet<IPAddress>> _ownAddresses;
    private readonly Lazy<HashSet<IPEndPoint>> _services;
    private (List<string> Source, IPNetwork[] Networks) _parsed = ([], []);

    public TargetPolicy(IOptionsMonitor<LimitsOptions> options, NodeEndpoints own, IClusterMembershipService membership)
    {
        _options = options;
        _membership = membership;
        _ownPorts = [.. own.Ports];
        _ownAddresses = new(() => OwnAddresses(own.Addresses));
        _services = new(() => Resolve(own.Services ?? []));
    }

    internal TargetPolicy(IOptionsMonitor<LimitsOptions> options, IEnumerable<int> ownPorts, IEnumerable<IPAddress> ownAddresses)
    {
        _options = options;
        _ownPorts = [.. ownPorts];
        _ownAddresses = new([.. ownAddresses.Select(Networks.Normalize)]);
        _services = new(() => []);
    }

    /// <summary>Whether an allow-list is configured (without one only the always-refused places are checked).</summary>
    public bool Enabled => _options.CurrentValue.AllowedTargetNetworks.Count > 0;

    /// <summary>Checks a target; on success returns the target to dial (the resolved, checked address).</summary>
    public async ValueTask<(TargetVerdict Verdict, ConsoleTarget Target, IPAddress? Offending)> CheckAsync(ConsoleTarget target, CancellationToken cancellationToken)
    {
        if (target.UnixSocket is not null)
        {
            return (TargetVerdict.Allowed, target, null);
        }

        var host = target.Host.Trim('[', ']');
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException)
            {
                addresses = [];
            }

            if (addresses.Length == 0)
            {
                return (TargetVerdict.Unresolved, target, null);
            }
        }

        var verdict = Check(addresses, target.Port);
        return verdict.Verdict == TargetVerdict.Allowed
            ? (TargetVerdict.Allowed, ConsoleTarget.Tcp(Networks.Normalize(addresses[0]).ToString(), target.Port), null)
            : (verdict.Verdict, target, verdict.Offending);
    }

    /// <summary>The check itself, on resolved addresses.</summary>
    internal (TargetVerdict Verdict, IPAddress? Offending) Check(IReadOnlyList<IPAddress> addresses, int port)
    {
        var networks = Parsed();
        foreach (var raw in addresses)
        {
            var address = Networks.Normalize(raw);
            if (IsReserved(address))
            {
                return (TargetVerdict.Reserved, address);
            }

            if (networks.Length > 0 && !Networks.Contains(networks, address))
            {
                return (TargetVerdict.NotAllowed, address);
            }

            if ((_ownPorts.Contains(port) && (IPAddress.IsLoopback(address) || _ownAddresses.Value.Contains(address)))
                || IsSilo(address, port) || _services.Value.Contains(new IPEndPoint(address, port)))
            {
                return (TargetVerdict.OwnEndpoint, address);
            }
        }

        return (TargetVerdict.Allowed, null);
    }

    /// <summary>Addresses no console lives at: unspecified, "this network", link-local, multicast, broadcast.</summary>
    internal static bool IsReserved(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            return bytes[0] == 0 || (bytes[0] == 169 && bytes[1] == 254) || bytes[0] >= 224;
        }

        return address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast;
    }

    private static HashSet<IPEndPoint> Resolve(IEnumerable<DnsEndPoint> services)
    {
        var resolved = new HashSet<IPEndPoint>();
        foreach (var service in services)
        {
            try
            {
                foreach (var address in IPAddress.TryParse(service.Host, out var literal) ? [literal] : Dns.GetHostAddresses(service.Host))
                {
                    resolved.Add(new IPEndPoint(Networks.Normalize(address), service.Port));
                }
            }
            catch (SocketException)
            {
                // A service name that does not resolve here cannot be dialled by this node either.
            }
        }

        return resolved;
    }

    private bool IsSilo(IPAddress address, int port)
    {
        if (_membership is null)
        {
            return false;
        }

        foreach (var silo in _membership.CurrentSnapshot.Members.Keys)
        {
            if (silo.Endpoint.Port == port && Networks.Normalize(silo.Endpoint.Address).Equals(address))
            {
                return true;
            }
        }

        return false;
    }

    private IPNetwork[] Parsed()
    {
        var source = _options.CurrentValue.AllowedTargetNetworks;
        var parsed = _parsed;
        if (!ReferenceEquals(parsed.Source, source))
        {
            // Validated at start-up; an entry made invalid by a live reload is skipped (refusing more, never less).
            parsed = (source, [.. source.Select(text => Networks.TryParse(text, out var network) ? (IPNetwork?)network : null).OfType<IPNetwork>()]);
            _parsed = parsed;
        }

        return parsed.Networks;
    }

    private static HashSet<IPAddress> OwnAddresses(IEnumerable<IPAddress> configured)
    {
        var addresses = configured.Select(Networks.Normalize).ToHashSet();

        try
        {
            foreach (var unicast in NetworkInterface.GetAllNetworkInterfaces().SelectMany(nic => nic.GetIPProperties().UnicastAddresses))
            {
                addresses.Add(Networks.Normalize(unicast.Address));
            }
        }
        catch (NetworkInformationException)
        {
            // Without the interface list the loopback and configured addresses still count as this node's own.
        }

        addresses.Add(IPAddress.Any);
        addresses.Add(IPAddress.IPv6Any);
        return addresses;
    }
}
