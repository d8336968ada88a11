namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// How <see cref="TokenTable.ApplyAsync(TokenPlan, TokenApplyPacing, CancellationToken)"/> spreads its grain writes:
/// at most <see cref="Parallelism"/> in flight, and no faster than <see cref="WritesPerSecond"/>.
/// </summary>
/// <remarks>
/// A big apply is CPU-bound on the node (a grain activation, a storage read and a serialized write per token); run as
/// fast as it goes, it takes every core from session set-up. Paced, the same work leaves gaps the set-up path uses.
/// </remarks>
public sealed record TokenApplyPacing(int Parallelism, double WritesPerSecond)
{
    /// <summary>
    /// Leaves no activation behind for a token new to the source. Its record is created straight in the "tokens" storage
    /// when it has none (<see cref="StoredTokens.TryCreateAsync"/>), for a fraction of a grain write's CPU and none of an
    /// activation's memory; one that has a record (another source's, or one this source's index lost) is written
    /// through its grain, which is then deactivated. A bulk apply would otherwise leave one activation (about 4.5 KiB)
    /// per token: 85,000 of them grow the heap by some 380 MiB, and every gen0 collection during the apply copies the
    /// new survivors, pausing session set-up for tens of milliseconds each time. A token's first lookup activates it
    /// (an activation and a storage read, as after idle collection anyway).
    /// </summary>
    public bool LeaveNewTokensInactive { get; init; }

    /// <summary>As fast as 64 calls in flight allow: for small applies such as a token file.</summary>
    public static readonly TokenApplyPacing Unpaced = new(64, double.PositiveInfinity);

    /// <summary>
    /// A pacing for a bulk apply (a sync) that spreads <paramref name="changes"/> writes over <paramref name="budget"/>, but
    /// never slower than <paramref name="minWritesPerSecond"/>, so a handful of changes lands at once; a zero budget means
    /// unpaced. New tokens leave no activation behind (<see cref="LeaveNewTokensInactive"/>).
    /// </summary>
    public static TokenApplyPacing ForBudget(int changes, TimeSpan budget, double minWritesPerSecond, int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(changes);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var rate = budget <= TimeSpan.Zero ? double.PositiveInfinity : Math.Max(minWritesPerSecond, changes / budget.TotalSeconds);
        return new TokenApplyPacing(parallelism, rate) { LeaveNewTokensInactive = true };
    }

    /// <summary>True when writes are rate-limited.</summary>
    public bool IsPaced => double.IsFinite(WritesPerSecond);
}
