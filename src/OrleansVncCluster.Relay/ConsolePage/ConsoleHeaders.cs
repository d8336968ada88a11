using System.Text;
using OrleansVncCluster.Relay.Admission;

namespace OrleansVncCluster.Relay.ConsolePage;

/// <summary>
/// Security and caching headers of the console page and its scripts. The page holds a live keyboard and screen of a VM,
/// so it runs only its own scripts, talks only to its own origin's WebSocket, is framed only by configured sites and
/// never leaks its URL (which carries the console token) in a Referer.
/// </summary>
internal sealed class ConsoleHeaders
{
    private readonly string _frameAncestors;
    private readonly string _extraConnectSources;
    private readonly string? _frameOptions;

    public ConsoleHeaders(ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ancestors = options.FrameAncestors.Select(a => a.Trim().TrimEnd('/')).Where(a => a.Length > 0).ToList();
        _frameAncestors = string.Join(' ', ["'self'", .. ancestors]);
        _extraConnectSources = string.Concat(options.ConnectSources.Select(s => " " + s.Trim().TrimEnd('/')));

        // X-Frame-Options cannot name other sites; browsers that know frame-ancestors ignore it, older ones need it.
        _frameOptions = ancestors.Count == 0 ? "SAMEORIGIN" : null;
    }

    public void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy(context.Request.Host);
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
        if (_frameOptions is not null)
        {
            headers.XFrameOptions = _frameOptions;
        }

        // The files are not fingerprinted: always revalidate (a cheap 304 through ETag), so an upgraded node never serves
        // a page whose modules come from two noVNC versions.
        headers.CacheControl = "no-cache";
    }

    /// <summary>
    /// connect-src names the page's own host for ws: and wss: explicitly: CSP 3 lets 'self' cover same-origin WebSockets,
    /// older browsers (Safari before 15.4) do not.
    /// </summary>
    internal string ContentSecurityPolicy(HostString host)
    {
        var connect = new StringBuilder("'self'");
        if (host.HasValue && IsPlainAuthority(host.Value))
        {
            connect.Append(" ws://").Append(host.Value).Append(" wss://").Append(host.Value);
        }

        connect.Append(_extraConnectSources);
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
            + $"connect-src {connect}; frame-ancestors {_frameAncestors}; base-uri 'none'; form-action 'none'; object-src 'none'";
    }

    /// <summary>True for a CSP source expression "scheme://host[:port]" with one of the given schemes (host may start with "*.").</summary>
    internal static bool IsSourceExpression(string? text, IReadOnlyList<string> schemes)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim().TrimEnd('/');
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0 || !schemes.Contains(text[..schemeEnd].ToLowerInvariant()))
        {
            return false;
        }

        var authority = text[(schemeEnd + 3)..];
        if (authority.StartsWith("*.", StringComparison.Ordinal))
        {
            authority = authority[2..];
        }

        return IsPlainAuthority(authority) && WebOrigin.TryParseHost(authority, 0, out _, out _);
    }

    /// <summary>Host header text is echoed into a header: only letters, digits and the punctuation of host:port pass.</summary>
    private static bool IsPlainAuthority(string text) =>
        text.Length is > 0 and <= 255 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']');
}
