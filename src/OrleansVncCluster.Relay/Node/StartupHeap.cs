using System.Diagnostics;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Collects what the node's start allocated, once, before it says it is ready (<c>/readyz</c>): blocking, compacting
/// collections of every generation until the start's survivors are in the oldest, after the host has started (the silo
/// Active, the listeners open), the token files were read and the node directory took this node's registration.
/// </summary>
/// <remarks>
/// Without it, the start's survivors (the silo, its clients and caches, the token table: some 8 MB on a small node) sit
/// in the youngest generations, and the first collections under traffic copy them up one generation at a time: a
/// runtime trace of the bench's cold node showed its first gen-0 collection pausing it 15.8-16.0 ms and its first gen-1
/// 19.5-21.4 ms, against 5-9 ms for later gen-0 ones, and every session in flight waited them out (docs/benchmarks.md,
/// lab note of the eighth session). A node that replaces a dead one takes all its load cold, so the pause is paid here,
/// where no session waits.
/// </remarks>
public sealed partial class StartupHeap(
    IHostApplicationLifetime lifetime, TokenFilesLoaded files, DirectoryRegistration registration, StartupRehearsal rehearsal, ILogger<StartupHeap> logger) : BackgroundService
{
    private volatile bool _settled;

    /// <summary>True once the start's garbage was collected.</summary>
    public bool Settled => _settled;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
                await files.WhenDone.WaitAsync(stoppingToken);
                await registration.WhenDone.WaitAsync(stoppingToken);

                // Its garbage, too, is collected below, before anyone's session.
                await rehearsal.RunAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var (before, pausedBefore, clock) = (GC.GetTotalMemory(forceFullCollection: false), GC.GetTotalPauseDuration(), Stopwatch.StartNew());
        // Twice: a collection promotes its survivors one generation only, so the first leaves the youngest's survivors
        // in gen 1, where the first gen-1 collection under traffic would copy them again (seen in the trace: 15-20 ms).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        LogSettled(logger, before / (1024.0 * 1024), GC.GetTotalMemory(forceFullCollection: false) / (1024.0 * 1024),
            (GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
        _settled = true;
    }

    [LoggerMessage(EventId = EventIds.StartupHeapSettled, Level = LogLevel.Information,
        Message = "Start-up heap collected before readiness: {BeforeMiB:F1} MiB to {AfterMiB:F1} MiB, paused {PauseMs:F1} ms ({ElapsedMs:F1} ms in all)")]
    private static partial void LogSettled(ILogger logger, double beforeMiB, double afterMiB, double pauseMs, double elapsedMs);
}
