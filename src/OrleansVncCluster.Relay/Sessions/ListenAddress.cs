using System.Net;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>A listener address in the forms websockify and operators write.</summary>
public static class ListenAddress
{
    /// <summary>Parses "PORT", "HOST:PORT", "[IPv6]:PORT", "*:PORT" or "localhost:PORT".</summary>
    public static bool TryParse(string? text, out IPEndPoint endpoint, out string error)
    {
        endpoint = new IPEndPoint(IPAddress.Any, 0);
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; write PORT or HOST:PORT, e.g. 0.0.0.0:6080";
            return false;
        }

        text = text.Trim();
        var colon = text.LastIndexOf(':');
        var hostPart = colon >= 0 ? text[..colon] : "";
        var portPart = colon >= 0 ? text[(colon + 1)..] : text;
        if (!int.TryParse(portPart, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            error = $"'{text}' has no valid port (0-65535); write PORT or HOST:PORT, e.g. 0.0.0.0:6080";
            return false;
        }

        hostPart = hostPart.Trim('[', ']');
        IPAddress address;
        if (hostPart is "" or "*" or "0.0.0.0")
        {
            address = IPAddress.Any;
        }
        else if (hostPart is "::")
        {
            address = IPAddress.IPv6Any;
        }
        else if (hostPart.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(hostPart, out address!))
        {
            error = $"'{text}' does not start with an IP address; listeners bind to addresses, e.g. 0.0.0.0:6080 or [::]:6080";
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary>
    /// Where a process on this host reaches a listener bound to <paramref name="listen"/>: loopback for a wildcard (a
    /// wildcard IPv6 listener takes IPv4 too), else the listener's own address.
    /// </summary>
    public static IPAddress Dialable(IPAddress listen) =>
        listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any) ? IPAddress.Loopback : listen;
}
