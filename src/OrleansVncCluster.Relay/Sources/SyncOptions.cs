using System.Globalization;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// How the token sync applies what changed (configuration section <c>Sync</c>). A first sync of 100,000 VMs writes
/// about 85,000 token grains; written as fast as possible that takes both cores of a small node for 10 s or more and
/// multiplies session set-up latency, so the writes are spread over <see cref="ApplyBudget"/> instead.
/// </summary>
public sealed class SyncOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Sync";

    /// <summary>The budget when <see cref="ApplyBudget"/> is not set is this share of <c>Abiquo:SyncInterval</c>...</summary>
    public const double DefaultBudgetShareOfInterval = 0.5;

    /// <summary>...but no longer than this, so a long interval does not make a big change trickle in for minutes.</summary>
    public static readonly TimeSpan MaxDefaultBudget = TimeSpan.FromSeconds(22);

    /// <summary>
    /// How long applying one sync's changes should take: writes are paced to finish in about this time. Unset: half of
    /// <c>Abiquo:SyncInterval</c>, at most 00:00:22, which leaves a 100,000-VM sync room for reading the inventory
    /// within 30 s (24 s measured) while set-up p99 during it stays near 2x idle (20-24 ms against 32-40 ms at 15 s). 00:00:00 turns pacing off (as fast as <see cref="ApplyParallelism"/> allows).
    /// </summary>
    public TimeSpan? ApplyBudget { get; set; }

    /// <summary>Pacing never goes slower than this, so a handful of changes lands at once rather than spread over the budget.
    /// 1,000 token writes per second cost about 6 % of one core.</summary>
    public double MinWritesPerSecond { get; set; } = 1000;

    /// <summary>Token writes in flight at once: enough to hide the storage's latency, few enough to leave the session
    /// set-up path room on the thread pool.</summary>
    public int ApplyParallelism { get; set; } = 8;

    /// <summary>The budget for a sync that runs every <paramref name="syncInterval"/>.</summary>
    public TimeSpan BudgetFor(TimeSpan syncInterval)
    {
        if (ApplyBudget is { } budget)
        {
            return budget;
        }

        var share = syncInterval * DefaultBudgetShareOfInterval;
        return share < MaxDefaultBudget ? share : MaxDefaultBudget;
    }

    /// <summary>The pacing for <paramref name="changes"/> token writes and removals.</summary>
    public TokenApplyPacing PacingFor(int changes, TimeSpan syncInterval) =>
        TokenApplyPacing.ForBudget(changes, BudgetFor(syncInterval), MinWritesPerSecond, ApplyParallelism);
}

/// <summary>Checks <see cref="SyncOptions"/> at start-up; each message names the key and what to put in it.</summary>
public sealed class SyncOptionsValidator : IValidateOptions<SyncOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SyncOptions options)
    {
        var failures = new List<string>();
        if (options.ApplyBudget is { } budget && (budget < TimeSpan.Zero || budget > TimeSpan.FromHours(1)))
        {
            failures.Add($"Sync:ApplyBudget {budget} must be between 00:00:00 (no pacing) and 01:00:00; leave it unset for half of Abiquo:SyncInterval, at most 00:00:22");
        }

        if (!(options.MinWritesPerSecond >= 1 && options.MinWritesPerSecond <= 1_000_000))
        {
            failures.Add($"Sync:MinWritesPerSecond {options.MinWritesPerSecond.ToString(CultureInfo.InvariantCulture)} must be between 1 and 1000000 token writes per second (default 1000)");
        }

        if (options.ApplyParallelism is < 1 or > 256)
        {
            failures.Add($"Sync:ApplyParallelism {options.ApplyParallelism} must be between 1 and 256 token writes in flight (default 8; raise it only if the token storage is slow to answer)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
