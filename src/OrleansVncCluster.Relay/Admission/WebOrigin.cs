namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// A web origin (scheme, host, port) as browsers serialise it in the Origin header; also parses allow-list entries, which
/// may carry a path (a configured public URL) and a leading <c>*.</c> host wildcard.
/// </summary>
internal readonly record struct WebOrigin(string Scheme, string Host, int Port, bool AnySubdomain)
{
    public int DefaultPort => DefaultPortOf(Scheme);

    public static bool TryParse(string text, out WebOrigin origin)
    {
        origin = default;
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return false;
        }

        var scheme = text[..schemeEnd].ToLowerInvariant();
        if (DefaultPortOf(scheme) == 0)
        {
            return false;
        }

        var authority = text[(schemeEnd + 3)..];
        var authorityEnd = authority.IndexOfAny(['/', '?', '#']);
        if (authorityEnd >= 0)
        {
            authority = authority[..authorityEnd];
        }

        if (authority.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        var anySubdomain = authority.StartsWith("*.", StringComparison.Ordinal);
        if (anySubdomain)
        {
            authority = authority[2..];
        }

        if (!TryParseHost(authority, DefaultPortOf(scheme), out var host, out var port))
        {
            return false;
        }

        origin = new WebOrigin(scheme, host, port, anySubdomain);
        return true;
    }

    /// <summary>Splits "host", "host:port", "[v6]" or "[v6]:port"; the host comes back lower-case, IPv6 without brackets.</summary>
    public static bool TryParseHost(string? text, int defaultPort, out string host, out int port)
    {
        host = "";
        port = defaultPort;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0 && rest[0] != ':')
            {
                return false;
            }

            portText = rest.Length > 0 ? rest[1..] : "";
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                // More than one colon without brackets is not a valid authority.
                return false;
            }

            host = colon >= 0 ? text[..colon] : text;
            portText = colon >= 0 ? text[(colon + 1)..] : "";
        }

        if (host.Length == 0)
        {
            return false;
        }

        host = host.ToLowerInvariant().TrimEnd('.');
        if (portText.Length == 0)
        {
            return true;
        }

        return int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            && port is > 0 and <= 65535;
    }

    public bool Matches(WebOrigin candidate)
    {
        if (!Scheme.Equals(candidate.Scheme, StringComparison.Ordinal) || Port != candidate.Port)
        {
            return false;
        }

        return AnySubdomain
            ? candidate.Host.EndsWith("." + Host, StringComparison.Ordinal)
            : candidate.Host.Equals(Host, StringComparison.Ordinal);
    }

    private static int DefaultPortOf(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        _ => 0,
    };
}
