using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// The re-validation of live sessions against their token grains (configuration section "Revalidation"): the safety net
/// under revocation broadcasts, so a session on a removed or retargeted token ends even when every broadcast was lost.
/// </summary>
public sealed class RevalidationOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Revalidation";

    /// <summary>How often every live session's token is checked; a revoked session lives at most this long without a broadcast.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Token grains asked at once during a round.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Fault injection for tests: this node ignores revocation broadcasts, as if every one was lost. Never in production.</summary>
    public bool DropBroadcastsForTesting { get; set; }

    /// <summary>
    /// Fault injection for tests: the first N revocation deliveries to this node fail, as if the node could not be
    /// reached, so the node directory's retry is what delivers them. 0 (the default) in production.
    /// </summary>
    public int FailFirstBroadcastsForTesting { get; set; }
}

/// <summary>Checks <see cref="RevalidationOptions"/> at start-up.</summary>
internal sealed class RevalidationOptionsValidator : IValidateOptions<RevalidationOptions>
{
    public ValidateOptionsResult Validate(string? name, RevalidationOptions options)
    {
        var errors = new List<string>();
        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromSeconds(60))
        {
            errors.Add($"Revalidation:Interval '{options.Interval}' must be between 00:00:01 and 00:01:00 (a revoked session must end within a minute), e.g. 00:00:30");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            errors.Add($"Revalidation:BatchSize '{options.BatchSize}' must be between 1 and 10000, e.g. 100");
        }

        if (options.FailFirstBroadcastsForTesting < 0)
        {
            errors.Add($"Revalidation:FailFirstBroadcastsForTesting '{options.FailFirstBroadcastsForTesting}' must be 0 (off) or a count of deliveries to fail, e.g. 2");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
