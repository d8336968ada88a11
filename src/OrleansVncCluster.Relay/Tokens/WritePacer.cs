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
    /// Deactivates the grain of each token new to the source once it is written. A bulk apply would otherwise leave one
    /// activation (about 4.5 KiB) per token: 85,000 of them grow the heap by some 380 MiB, and every gen0 collection
    /// during the apply copies the new survivors, pausing session set-up for tens of milliseconds each time. A token's
    /// first lookup activates it again (an activation and a storage read, as after idle collection anyway).
    /// </summary>
    public bool DeactivateNewTokens { get; init; }

    /// <summary>As fast as 64 calls in flight allow: for small applies such as a token file.</summary>
    public static readonly TokenApplyPacing Unpaced = new(64, double.PositiveInfinity);

    /// <summary>
    /// A pacing for a bulk apply (a sync) that spreads <paramref name="changes"/> writes over <paramref name="budget"/>, but
    /// never slower than <paramref name="minWritesPerSecond"/>, so a handful of changes lands at once; a zero budget means
    /// unpaced. New tokens' grains are deactivated once written (<see cref="DeactivateNewTokens"/>).
    /// </summary>
    public static TokenApplyPacing ForBudget(int changes, TimeSpan budget, double minWritesPerSecond, int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(changes);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        var rate = budget <= TimeSpan.Zero ? double.PositiveInfinity : Math.Max(minWritesPerSecond, changes / budget.TotalSeconds);
        return new TokenApplyPacing(parallelism, rate) { DeactivateNewTokens = true };
    }

    /// <summary>True when writes are rate-limited.</summary>
    public bool IsPaced => double.IsFinite(WritesPerSecond);
}

/// <summary>
/// Hands out write turns on a fixed schedule: turn <c>n</c> may start <c>n / rate</c> seconds after the pacer was made.
/// A schedule rather than a refilling bucket: writes that fall behind (a slow store) are not followed by a burst to catch
/// up, beyond what the caller's parallelism allows.
/// </summary>
internal sealed class WritePacer
{
    /// <summary>Shorter waits are not worth a timer (its resolution is about a millisecond): the turn goes at once.</summary>
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(1);

    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly double _timestampsPerTurn;
    private long _turns;

    public WritePacer(double writesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(writesPerSecond);
        _time = time;
        _start = time.GetTimestamp();
        _timestampsPerTurn = double.IsFinite(writesPerSecond) ? time.TimestampFrequency / writesPerSecond : 0;
    }

    /// <summary>Turns handed out so far.</summary>
    public long Turns => Interlocked.Read(ref _turns);

    /// <summary>Completes when the caller's turn has come.</summary>
    public ValueTask WaitTurnAsync(CancellationToken cancellationToken)
    {
        var turn = Interlocked.Increment(ref _turns) - 1;
        if (_timestampsPerTurn == 0)
        {
            return ValueTask.CompletedTask;
        }

        var due = _start + (long)(turn * _timestampsPerTurn);
        var now = _time.GetTimestamp();
        if (due <= now)
        {
            return ValueTask.CompletedTask;
        }

        var wait = _time.GetElapsedTime(now, due);
        return wait < MinimumWait ? ValueTask.CompletedTask : new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }
}
