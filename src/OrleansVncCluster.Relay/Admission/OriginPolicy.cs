namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Decides whether a WebSocket upgrade's Origin may open a console, to stop cross-site WebSocket hijacking: browsers send
/// cookies (noVNC's <c>token</c> cookie among them) with a cross-site upgrade and do not apply CORS to WebSockets, so the
/// server must check Origin itself (RFC 6455 section 10.2; websockify issue 435, nova's check against Host).
/// </summary>
public static class OriginPolicy
{
    /// <summary>The allow-list entry that accepts every origin (turns the check off).</summary>
    public const string AnyOrigin = "*";

    /// <summary>
    /// True when <paramref name="origin"/> may open a console on a request whose Host header is <paramref name="requestHost"/>.
    /// Allowed: no Origin at all (only non-browser clients such as websockify's own clients omit it; browsers always send it),
    /// an origin naming the request's own host and port, and an origin matching an entry of <paramref name="allowedOrigins"/>:
    /// an origin (<c>https://ui.example.com</c>, a path after it is ignored), a subdomain pattern (<c>https://*.example.com</c>)
    /// or <c>*</c>. The opaque origin <c>null</c> (sandboxed frames, file: pages) passes only when listed as <c>null</c>.
    /// </summary>
    public static bool IsAllowed(string? origin, string requestHost, IReadOnlyList<string> allowedOrigins)
    {
        ArgumentNullException.ThrowIfNull(allowedOrigins);
        if (string.IsNullOrEmpty(origin))
        {
            return true;
        }

        origin = origin.Trim();
        foreach (var entry in allowedOrigins)
        {
            if (entry.Trim() is AnyOrigin)
            {
                return true;
            }
        }

        if (origin.Equals("null", StringComparison.OrdinalIgnoreCase))
        {
            return allowedOrigins.Any(entry => entry.Trim().Equals("null", StringComparison.OrdinalIgnoreCase));
        }

        if (!WebOrigin.TryParse(origin, out var parsed))
        {
            return false;
        }

        if (WebOrigin.TryParseHost(requestHost, parsed.DefaultPort, out var host, out var port)
            && parsed.Host.Equals(host, StringComparison.OrdinalIgnoreCase) && parsed.Port == port)
        {
            return true;
        }

        foreach (var entry in allowedOrigins)
        {
            if (WebOrigin.TryParse(entry.Trim(), out var allowed) && allowed.Matches(parsed))
            {
                return true;
            }
        }

        return false;
    }
}
