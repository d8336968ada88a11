using Microsoft.Net.Http.Headers;

namespace OrleansVncCluster.AbiquoSimulator.Api;

/// <summary>The outcome of matching an <c>Accept</c> header against what a resource produces.</summary>
/// <param name="Version">The API version to answer with, or null when nothing acceptable was asked for.</param>
/// <param name="Problem">Why the request is not acceptable (for the 406 body).</param>
public sealed record Negotiation(string? Version, string? Problem)
{
    public bool Acceptable => Version is not null;
}

/// <summary>
/// Abiquo's media types: <c>application/vnd.abiquo.&lt;entity&gt;+json</c>, optionally <c>; version=3.10</c>. No version
/// means the newest; a version the server does not know is answered 406. The simulator speaks JSON only (a +xml
/// request gets 406 too; real 2.x servers defaulted to XML, 3.0+ to JSON).
/// </summary>
public static class MediaTypes
{
    private const string Prefix = "application/vnd.abiquo.";

    /// <summary><c>application/vnd.abiquo.&lt;entity&gt;+json; version=&lt;version&gt;</c>.</summary>
    public static string For(string entity, string version) => $"{Prefix}{entity}+json; version={version}";

    /// <summary>The media type without a version, as links carry it.</summary>
    public static string Plain(string entity) => $"{Prefix}{entity}+json";

    /// <summary>Matches <paramref name="accept"/> against the JSON media type of <paramref name="entity"/>.</summary>
    public static Negotiation Negotiate(string? accept, string entity, string newestVersion)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return new Negotiation(newestVersion, null);
        }

        if (!MediaTypeHeaderValue.TryParseList([accept], out var ranges))
        {
            return new Negotiation(null, $"the Accept header '{accept}' is not a list of media types");
        }

        var wanted = Plain(entity);
        string? problem = null;
        foreach (var range in ranges)
        {
            var type = range.MediaType.Value ?? "";
            if (type is "*/*" or "application/*" or "application/json")
            {
                return new Negotiation(newestVersion, null);
            }

            if (!type.Equals(wanted, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var version = range.Parameters.FirstOrDefault(p => p.Name.Equals("version", StringComparison.OrdinalIgnoreCase))?.Value.Value;
            if (version is null)
            {
                return new Negotiation(newestVersion, null);
            }

            if (IsSupported(version, newestVersion))
            {
                return new Negotiation(version, null);
            }

            problem = $"version '{version}' of {wanted} is not supported: this server supports versions 2.0 to {newestVersion}";
        }

        return new Negotiation(null, problem ?? $"this resource produces {For(entity, newestVersion)}, which the Accept header '{accept}' does not allow");
    }

    /// <summary>True for a <c>major.minor</c> version from 2.0 up to <paramref name="newestVersion"/>.</summary>
    public static bool IsSupported(string version, string newestVersion) =>
        System.Version.TryParse(version, out var asked) && asked.Build < 0
        && System.Version.TryParse(newestVersion, out var newest)
        && asked.Major >= 2 && asked <= newest;

    /// <summary>True when <paramref name="accept"/> allows a plain-text answer.</summary>
    public static bool AcceptsText(string? accept) =>
        string.IsNullOrWhiteSpace(accept)
        || (MediaTypeHeaderValue.TryParseList([accept], out var ranges)
            && ranges.Any(r => r.MediaType.Value is "*/*" or "text/*" or "text/plain"));
}
