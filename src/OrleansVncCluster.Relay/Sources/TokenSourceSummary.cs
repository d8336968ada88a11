using Microsoft.Extensions.Configuration;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// What the start-up log says about the token sources. A node with no source refuses every console with 4404, and an
/// Abiquo section without <c>Abiquo:ApiUrl</c> (a misspelt key such as <c>Abiquo__Url</c>) used to leave the sync off
/// without a word; both are said at start instead.
/// </summary>
public static class TokenSourceSummary
{
    /// <summary>The keys of the Abiquo section (<see cref="AbiquoOptions"/>' properties).</summary>
    private static readonly HashSet<string> KnownAbiquoKeys = typeof(AbiquoOptions).GetProperties()
        .Where(property => property.SetMethod is { IsPublic: true }).Select(property => property.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The active token sources in one line, e.g. <c>token files /etc/vnc-relay/tokens.cfg; Abiquo sync from https://abiquo.example/api as vnc-relay every 00:00:30</c>.</summary>
    public static string Describe(IConfiguration configuration)
    {
        var sources = new List<string>();
        var files = configuration.GetSection(TokenOptions.Section).GetSection(nameof(TokenOptions.Files)).GetChildren()
            .Select(file => file.Value).Where(file => !string.IsNullOrWhiteSpace(file)).ToList();
        if (files.Count > 0)
        {
            sources.Add($"token files {string.Join(", ", files)}");
        }

        var abiquo = configuration.GetSection(AbiquoOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(abiquo[nameof(AbiquoOptions.ApiUrl)]))
        {
            var interval = abiquo[nameof(AbiquoOptions.SyncInterval)] is { Length: > 0 } text ? text : new AbiquoOptions().SyncInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
            sources.Add($"Abiquo sync from {abiquo[nameof(AbiquoOptions.ApiUrl)]} as {abiquo[nameof(AbiquoOptions.User)] ?? "(no user)"} every {interval}");
        }

        return sources.Count > 0
            ? string.Join("; ", sources)
            : "none: every console is refused (4404) until a token file (Tokens:Files, --target-config) or the Abiquo sync (Abiquo:ApiUrl) is configured";
    }

    /// <summary>
    /// A warning when <c>Abiquo</c> keys are set but <c>Abiquo:ApiUrl</c> is not (the sync is then off), naming the keys
    /// seen and those that are not settings at all; null when there is nothing to say. Never includes a value.
    /// </summary>
    public static string? AbiquoWithoutApiUrl(IConfiguration configuration)
    {
        var abiquo = configuration.GetSection(AbiquoOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(abiquo[nameof(AbiquoOptions.ApiUrl)]))
        {
            return null;
        }

        var present = abiquo.GetChildren().Where(key => !string.IsNullOrWhiteSpace(key.Value) || key.GetChildren().Any())
            .Select(key => key.Key).Order(StringComparer.OrdinalIgnoreCase).ToList();
        if (present.Count == 0)
        {
            return null;
        }

        var unknown = present.Where(key => !KnownAbiquoKeys.Contains(key)).ToList();
        var message = $"{string.Join(", ", present.Select(key => "Abiquo:" + key))} set, but Abiquo:ApiUrl is not: the Abiquo token sync is OFF. "
            + "Set Abiquo:ApiUrl (environment Abiquo__ApiUrl), e.g. https://abiquo.example/api, or remove the Abiquo keys";
        return unknown.Count == 0
            ? message
            : message + $"; not Abiquo settings (misspelt?): {string.Join(", ", unknown.Select(key => "Abiquo:" + key))}";
    }
}
