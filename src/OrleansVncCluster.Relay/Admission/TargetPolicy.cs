using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Which console targets may be dialled (Limits:AllowedTargetNetworks). Token entries come from Abiquo or token files;
/// a poisoned answer must not turn the relay into a tunnel to Redis, silo ports or other internal services. With an
/// allow-list set: a host name is resolved first and EVERY address must be allowed (one bad A record is enough to
/// refuse), and the session then dials the checked address, never the name again, so a DNS answer that changes in
/// between (rebinding) cannot slip past. The node's own listeners are refused on its own addresses, and every cluster
/// member's silo endpoint (from membership) is refused, even when the allow-list covers them: a development allow-list
/// of 127.0.0.0/8 still keeps the admin API and the silos out of reach. Redis is not known here: keep its network out of the list.
/// Loopback needs no special rule: it is refused unless the list names it. Without an allow-list nothing is checked
/// (the former behaviour: only addresses from the token table are dialled). Unix-socket targets only come from
/// operator-written token files, never from Abiquo, and are not network targets: the list does not apply to them.
/// </summary>
public sealed class TargetPolicy
{
    private readonly IOptionsMonitor<LimitsOptions> _options;
    private readonly IClusterMembershipService? _membership;
    private readonly HashSet<int> _ownPorts;
    private readonly Lazy<HashSet<IPAddress>> _ownAddresses;
    private (List<string> Source, IPNetwork[] Networks) _parsed = ([], []);

    public TargetPolicy(IOptionsMonitor<LimitsOptions> options, NodeEndpoints own, IClusterMembershipService membership)
    {
        _options = options;
        _membership = membership;
        _ownPorts = [.. own.Ports];
        _ownAddresses = new(() => OwnAddresses(own.Addresses));
    }

    internal TargetPolicy(IOptionsMonitor<LimitsOptions> options, IEnumerable<int> ownPorts, IEnumerable<IPAddress> ownAddresses)
    {
        _options = options;
        _ownPorts = [.. ownPorts];
        _ownAddresses = new([.. ownAddresses.Select(Networks.Normalize)]);
    }

    /// <summary>Whether an allow-list is configured (and targets are checked at all).</summary>
    public bool Enabled => _options.CurrentValue.AllowedTargetNetworks.Count > 0;

    /// <summary>Checks a target; on success returns the target to dial (a resolved, checked address when the list is on).</summary>
    public async ValueTask<(TargetVerdict Verdict, ConsoleTarget Target, IPAddress? Offending)> CheckAsync(ConsoleTarget target, CancellationToken cancellationToken)
    {
        if (!Enabled || target.UnixSocket is not null)
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
            if (!Networks.Contains(networks, address))
            {
                return (TargetVerdict.NotAllowed, address);
            }

            if ((_ownPorts.Contains(port) && (IPAddress.IsLoopback(address) || _ownAddresses.Value.Contains(address))) || IsSilo(address, port))
            {
                return (TargetVerdict.OwnEndpoint, address);
            }
        }

        return (TargetVerdict.Allowed, null);
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
