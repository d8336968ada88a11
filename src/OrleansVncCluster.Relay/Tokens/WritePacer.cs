namespace OrleansVncCluster.Relay.Tokens;

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
