using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Where a console page's resume credential (<see cref="ResumeText"/>) travels: a cookie the relay sets on the WebSocket's
/// 101 answer (browsers store cookies from it) and renews on the page's presence call. HttpOnly, so no script of the page
/// (nor one injected into it) reads it; SameSite=Strict, so no other site's page sends it; Path the relay path, so it
/// goes nowhere but the relay's console WebSocket and presence call; Max-Age the resume window, so the browser drops it
/// when the relay would refuse it anyway. One per page: the page names it with a random id (<c>?resume=ID</c>, 16 to 32
/// URL-safe characters) so two consoles in one browser never take each other's. The id alone is worth nothing: it only
/// says which of the browser's cookies to read.
/// </summary>
public static class ResumeCookie
{
    /// <summary>The query parameter naming the page's credential.</summary>
    public const string QueryName = "resume";

    /// <summary>Every resume cookie's name starts with this; the page id follows.</summary>
    public const string NamePrefix = "vnc-resume-";

    /// <summary>The page id of the request, when it gave a well-formed one.</summary>
    public static string? PageId(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Query.TryGetValue(QueryName, out var values) && values.Count == 1 && IsPageId(values[0]) ? values[0] : null;
    }

    /// <summary>The page's resume credential, when the request names a page whose cookie it carries.</summary>
    public static string? Read(HttpRequest request) =>
        PageId(request) is { } page && request.Cookies.TryGetValue(NamePrefix + page, out var value) && ResumeText.LooksLikeResume(value) ? value : null;

    /// <summary>Sets (or renews) the page's credential on the response; before the response starts (for a WebSocket,
    /// before the 101).</summary>
    public static void Write(HttpContext context, string pageId, string path, string credential, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Append(NamePrefix + pageId, credential, Options(context, path, lifetime));
    }

    /// <summary>Tells the browser to drop the page's credential (the relay will not accept it any more).</summary>
    public static void Delete(HttpContext context, string pageId, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(NamePrefix + pageId, Options(context, path, TimeSpan.Zero));
    }

    /// <summary>16 to 32 characters of the base64url alphabet.</summary>
    public static bool IsPageId(string? text) =>
        text is { Length: >= 16 and <= 32 } && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static CookieOptions Options(HttpContext context, string path, TimeSpan lifetime) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        // Behind HAProxy's TLS offload the relay hears http: the scheme the browser used is in X-Forwarded-Proto.
        Secure = context.Request.IsHttps || string.Equals(context.Request.Headers["X-Forwarded-Proto"], "https", StringComparison.OrdinalIgnoreCase),
        Path = path,
        MaxAge = lifetime,
        IsEssential = true,
    };
}
