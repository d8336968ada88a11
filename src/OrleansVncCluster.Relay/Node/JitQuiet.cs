namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Judges, one window at a time, whether the JIT has gone quiet under the start-up rehearsal's load: it compiled for
/// less than <see cref="QuietJitPerWindow"/> in each of <see cref="WindowsInARow"/> windows in a row, each of which
/// relayed at least half the sessions of the busiest window so far, and never before <see cref="Least"/>.
/// </summary>
/// <remarks>
/// One window with little compiling is no evidence on its own: in a full bench run a Redis-backed node's rehearsal was
/// judged quiet after 5.1 s, with 2,654 methods compiled where a node warmed to its end compiles about 8,700, and that
/// node's first 1,000 sessions then cost 1,340 µs of CPU each against 430 warm (p99 2.00x the warm node's). A window
/// whose sessions stalled compiles little because little ran; the runtime's tier-1 promotions come in batches, with
/// gaps between them. Asking for a loaded window, twice, costs a warmed node one more second of rehearsal.
/// </remarks>
internal sealed class JitQuiet
{
    /// <summary>A window's compiling below this (a twentieth of one core) counts as quiet.</summary>
    public static readonly TimeSpan QuietJitPerWindow = TimeSpan.FromMilliseconds(50);

    /// <summary>Never judged quiet before this: the first promotions wait for the runtime's call counting to begin.</summary>
    public static readonly TimeSpan Least = TimeSpan.FromSeconds(3);

    /// <summary>Quiet, loaded windows needed one after the other.</summary>
    public const int WindowsInARow = 2;

    private int _busiest;
    private int _inARow;

    /// <summary>Takes one window's figures; true once the JIT counts as quiet.</summary>
    /// <param name="elapsed">Time since the rehearsal began, at the window's end.</param>
    /// <param name="compiling">Time the JIT spent compiling in the window.</param>
    /// <param name="sessions">Sessions the rehearsal relayed in the window.</param>
    public bool Observe(TimeSpan elapsed, TimeSpan compiling, int sessions)
    {
        _busiest = Math.Max(_busiest, sessions);
        var loaded = sessions > 0 && sessions * 2 >= _busiest;
        _inARow = loaded && compiling < QuietJitPerWindow ? _inARow + 1 : 0;
        return elapsed >= Least && _inARow >= WindowsInARow;
    }
}
