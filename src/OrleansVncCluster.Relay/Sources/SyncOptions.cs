using System.Globalization;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// The token sync's schedule and pacing, in one section (<c>Sync</c>): how often it polls its sources, how often every
/// node's keeper checks that it runs, and how it applies what changed. The schedule used to sit in the <c>Abiquo</c>
/// section: <c>Abiquo:SyncInterval</c> and <c>Abiquo:KeeperInterval</c> are still read when the new keys are not set,
/// and the keeper warns at start-up naming the new key (<see cref="OldKeys"/>). A first sync of 100,000 VMs writes
/// about 85,000 token grains; written as fast as possible that takes both cores of a small node for 10 s or more and
/// multiplies session set-up latency, so the writes are spread over <see cref="ApplyBudget"/> instead.
/// </summary>
public sealed class SyncOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Sync";

    /// <summary>The old keys of this section's settings, and their new names.</summary>
    public static readonly IReadOnlyList<(string Old, string New)> OldKeys =
    [
        ("Abiquo:SyncInterval", "Sync:Interval"),
        ("Abiquo:KeeperInterval", "Sync:KeeperInterval"),
    ];

    /// <summary>How often the sync polls every source (formerly Abiquo:SyncInterval).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often every node's keeper makes sure the sync grain runs (formerly Abiquo:KeeperInterval); a node
    /// that hosted it and died is replaced within about this long.</summary>
    public TimeSpan KeeperInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The budget when <see cref="ApplyBudget"/> is not set is this share of <see cref="Interval"/>...</summary>
    public const double DefaultBudgetShareOfInterval = 0.5;

    /// <summary>...but no longer than this, so a long interval does not make a big change trickle in for minutes.</summary>
    public static readonly TimeSpan MaxDefaultBudget = TimeSpan.FromSeconds(12);

    /// <summary>
    /// How long applying one sync's changes should take: writes are paced to finish in about this time. Unset: half of
    /// <see cref="Interval"/>, at most 00:00:12: a 100,000-VM sync then ends in about 17 s with set-up p99 during it
    /// 0.8-1.5x idle (seven runs, docs/benchmarks.md), since tokens new to the sync are created in storage without their grains
    /// (22 s before that, when each write activated a grain). A sync that changes many existing tokens still writes them
    /// through their grains, which costs more per token: a longer budget trades sync time for set-up latency there.
    /// 00:00:00 turns pacing off (as fast as <see cref="ApplyParallelism"/> allows).
    /// </summary>
    public TimeSpan? ApplyBudget { get; set; }

    /// <summary>Pacing never goes slower than this, so a sync of a few thousand changes lands at once rather than spread
    /// over the whole budget. 4,000 since removals and creates are mixed in an apply: a 1 % re-sync of 1,000,000 VMs
    /// (17,000 changes) at 1,000 took its 12 s budget and more; at 4,000 it took 8.8 s, as fast as the node removes tokens
    /// beside the bench's sessions, with set-up p99 during it at 0.85x idle (docs/benchmarks.md). A 1,000,000-VM first sync
    /// runs as fast as <see cref="ApplyParallelism"/> allows for minutes without raising set-up p99, so the budget, not
    /// this floor, is what protects session set-up from a big sync.</summary>
    public double MinWritesPerSecond { get; set; } = 4000;

    /// <summary>Token writes in flight at once: enough to hide the storage's latency, few enough to leave the session
    /// set-up path room on the thread pool. 16 since new tokens are created in storage: a 1,000,000-VM first sync on a
    /// Redis-backed node, which runs as fast as this allows, took 183 s at 16 against 343 s at 8 (peak RSS 1,333 against
    /// 1,519 MiB), with no change to a 100,000-VM sync, which keeps its pace either way.</summary>
    public int ApplyParallelism { get; set; } = 16;

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

    /// <summary>
    /// Takes the old keys' values for settings whose new key is not set (old keys are still accepted); returns the old
    /// keys found, for the start-up warning.
    /// </summary>
    public static IReadOnlyList<(string Old, string New)> ApplyOldKeys(SyncOptions options, IConfiguration configuration)
    {
        var found = OldKeys.Where(key => configuration[key.Old] is { Length: > 0 }).ToList();
        foreach (var (old, now) in found)
        {
            if (configuration[now] is { Length: > 0 })
            {
                continue;
            }

            var value = configuration.GetValue<TimeSpan>(old);
            if (now == "Sync:Interval")
            {
                options.Interval = value;
            }
            else
            {
                options.KeeperInterval = value;
            }
        }

        return found;
    }

    /// <summary>
    /// Whether an apply that took <paramref name="elapsed"/> ran well past its budget (half again, and a second): the token
    /// storage answers too slowly for the changes in flight. Not the pace's plan: the floor can plan a few thousand
    /// changes for 2 s that the node removes in 5, well within the budget.
    /// </summary>
    public bool OverBudget(TimeSpan elapsed, TimeSpan syncInterval) => elapsed > BudgetFor(syncInterval) * 1.5 + TimeSpan.FromSeconds(1);

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
        if (options.Interval < TimeSpan.FromSeconds(1) || options.Interval > TimeSpan.FromDays(1))
        {
            failures.Add($"Sync:Interval {options.Interval} must be between 00:00:01 and 1.00:00:00 (default 00:00:30)");
        }

        if (options.KeeperInterval < TimeSpan.FromMilliseconds(100) || options.KeeperInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"Sync:KeeperInterval {options.KeeperInterval} must be between 00:00:00.1 and 01:00:00 (default 00:00:10)");
        }

        if (options.ApplyBudget is { } budget && (budget < TimeSpan.Zero || budget > TimeSpan.FromHours(1)))
        {
            failures.Add($"Sync:ApplyBudget {budget} must be between 00:00:00 (no pacing) and 01:00:00; leave it unset for half of Sync:Interval, at most 00:00:12");
        }

        if (!(options.MinWritesPerSecond >= 1 && options.MinWritesPerSecond <= 1_000_000))
        {
            failures.Add($"Sync:MinWritesPerSecond {options.MinWritesPerSecond.ToString(CultureInfo.InvariantCulture)} must be between 1 and 1000000 token writes per second (default 4000)");
        }

        if (options.ApplyParallelism is < 1 or > 256)
        {
            failures.Add($"Sync:ApplyParallelism {options.ApplyParallelism} must be between 1 and 256 token writes in flight (default 16; raise it only if the token storage is slow to answer)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
