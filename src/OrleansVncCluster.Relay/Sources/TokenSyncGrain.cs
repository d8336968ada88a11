using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Serialization.Invocation;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// The cluster's token sync. A non-interleaving grain timer runs a sync every interval, so syncs never overlap within
/// the activation; <see cref="TokenTable"/> writes desired state, so two activations during a membership change do no
/// harm. A failing source keeps all its tokens: nothing is planned or applied from a failed read, and retries back off.
/// </summary>
[KeepAlive]
[MayInterleave(nameof(MayInterleave))]
internal sealed partial class TokenSyncGrain(
    IEnumerable<ITokenSource> sources,
    TokenTable table,
    IOptionsMonitor<AbiquoOptions> options,
    IOptionsMonitor<SyncOptions> syncOptions,
    TimeProvider time,
    RelayMetrics metrics,
    ILocalSiloDetails silo,
    ILogger<TokenSyncGrain> logger) : Grain, ITokenSyncGrain, IRemindable
{
    private readonly MassRemovalGuard _guard = new();
    private readonly Dictionary<string, SourceSyncStatus> _sources = new(StringComparer.Ordinal);
    private readonly ITokenSource[] _sourceList = [.. sources];
    private SyncStatus _status = new();
    private TimeSpan _interval;
    private DateTimeOffset _notBefore;
    private bool _reminderRegistered;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _interval = syncOptions.CurrentValue.Interval;
        var now = time.GetUtcNow();
        _status = new SyncStatus { Host = silo.Name, Interval = _interval, NextRunAt = now };
        foreach (var source in _sourceList)
        {
            _sources[source.Name] = new SourceSyncStatus { Name = source.Name };
        }

        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TimeSpan.Zero, _interval) { Interleave = false, KeepAlive = true });
        LogStarted(logger, silo.Name, _interval, string.Join(", ", _sourceList.Select(s => s.Name)));
        return Task.CompletedTask;
    }

    public Task EnsureRunningAsync() => Task.CompletedTask;

    public Task<SyncStatus> GetStatusAsync() => Task.FromResult(_status);

    public async Task<SyncStatus> SyncNowAsync()
    {
        await RunAsync(CancellationToken.None);
        return _status;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    /// <summary>
    /// A reminder tick interleaves with a running sync: it does nothing (the reminder only brings the grain back when its
    /// node died), and waiting for a 1,000,000-VM first sync (3 minutes) made it time out after 30 s and log an error.
    /// The interface's status and keeper calls interleave by their <c>[AlwaysInterleave]</c>.
    /// </summary>
    public static bool MayInterleave(IInvokable request) => request.GetInterfaceType() == typeof(IRemindable);

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (!_reminderRegistered)
        {
            await RegisterReminderAsync();
        }

        if (time.GetUtcNow() < _notBefore)
        {
            return;
        }

        await RunAsync(cancellationToken);
    }

    private async Task RegisterReminderAsync()
    {
        try
        {
            await this.RegisterOrUpdateReminder(TokenSync.ReminderName, TokenSync.ReminderPeriod, TokenSync.ReminderPeriod);
            _reminderRegistered = true;
        }
        catch (Exception exception)
        {
            // The keepers on every node still bring the grain back; the reminder is only the backstop.
            LogReminderUnavailable(logger, exception);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var errors = new List<string>();
        var failed = false;
        var currentOptions = options.CurrentValue;
        foreach (var source in _sourceList)
        {
            var (problem, held) = await SyncSourceAsync(source, currentOptions.MaxRemovalShare, startedAt, cancellationToken);
            if (problem is not null)
            {
                errors.Add($"{source.Name}: {problem}");
                // A held plan is not a failure: the confirming answer should come one interval later, not after a backoff.
                failed |= !held;
            }
        }

        var duration = Stopwatch.GetElapsedTime(started);
        var finishedAt = time.GetUtcNow();
        var failures = failed ? _status.ConsecutiveFailures + 1 : 0;
        var wait = failures == 0 ? _interval : Backoff(failures);
        _notBefore = failures == 0 ? DateTimeOffset.MinValue : finishedAt + wait - TimeSpan.FromMilliseconds(50);
        var error = errors.Count == 0 ? null : string.Join("; ", errors);
        metrics.SyncFinished(duration, error is null);
        _status = _status with
        {
            Runs = _status.Runs + 1,
            LastRunAt = startedAt,
            LastDuration = duration,
            LastSuccessAt = error is null ? finishedAt : _status.LastSuccessAt,
            LastError = error,
            LastErrorAt = error is null ? _status.LastErrorAt : finishedAt,
            ConsecutiveFailures = failures,
            NextRunAt = finishedAt + (wait > _interval ? RoundUp(wait, _interval) : _interval),
            Tokens = _sources.Values.Sum(s => s.Tokens),
            Sources = [.. _sources.Values.OrderBy(s => s.Name, StringComparer.Ordinal)],
        };

        if (error is null)
        {
            LogCompleted(logger, _status.Tokens, _sources.Values.Sum(s => s.Written), _sources.Values.Sum(s => s.Removed), duration.TotalMilliseconds);
        }
        else
        {
            LogFailed(logger, error, failures, _status.NextRunAt);
        }
    }

    /// <summary>Syncs one source; returns what went wrong (null: nothing), and whether that was a held mass removal.</summary>
    private async Task<(string? Problem, bool Held)> SyncSourceAsync(ITokenSource source, double maxRemovalShare, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var previous = _sources[source.Name];
        try
        {
            var (started, pausedBefore) = (Stopwatch.GetTimestamp(), GC.GetTotalPauseDuration());
            // The source's index is read while the source loads: both take seconds at 1,000,000 VMs. A failed load is
            // the error reported (the first task's exception), and neither task is left unobserved.
            var (loading, reading) = (source.LoadAsync(cancellationToken), table.ReadIndexAsync(source.Name));
            await Task.WhenAll(loading, reading);
            var loaded = Stopwatch.GetTimestamp();
            var plan = TokenTable.Plan(source.Name, await loading, await reading);
            var planned = Stopwatch.GetTimestamp();
            var decision = _guard.Check(plan, maxRemovalShare);
            if (decision == GuardDecision.Hold)
            {
                LogMassRemovalHeld(logger, source.Name, plan.Removals.Count, plan.PreviousCount, maxRemovalShare);
                _sources[source.Name] = previous with { HeldRemovals = plan.Removals.Count, Tokens = plan.PreviousCount, LastError = null };
                return ($"held: would remove {plan.Removals.Count} of {plan.PreviousCount} tokens (more than {maxRemovalShare:P0}); applied if the next answer is the same", true);
            }

            if (decision == GuardDecision.ApplyConfirmed)
            {
                LogMassRemovalConfirmed(logger, source.Name, plan.Removals.Count, plan.PreviousCount);
            }

            var result = await ApplyPacedAsync(plan, cancellationToken);
            var (load, planning, apply) = (Stopwatch.GetElapsedTime(started, loaded), Stopwatch.GetElapsedTime(loaded, planned), Stopwatch.GetElapsedTime(planned));
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(1))
            {
                // Where a long sync spends its time; garbage collection shows how much of it its own allocations cost.
                LogTimings(logger, source.Name, load.TotalSeconds, planning.TotalSeconds, apply.TotalSeconds, result.IndexWrite.TotalSeconds,
                    (GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds);
            }

            var failed = result.Failed > 0 ? $"{result.Failed} token writes or removals failed; retried next sync" : null;
            _sources[source.Name] = new SourceSyncStatus
            {
                Name = source.Name,
                Tokens = plan.NewIndex.Count,
                Written = result.Written,
                Removed = result.Removed,
                Unchanged = result.Unchanged,
                Failed = result.Failed,
                LastSuccessAt = failed is null ? now : previous.LastSuccessAt,
                LastError = failed,
                LastLoad = load,
                LastPlan = planning,
                LastApply = apply,
            };
            return (failed, false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            LogSourceFailed(logger, exception is AbiquoException ? null : exception, source.Name, exception.Message);
            _sources[source.Name] = previous with { LastError = exception.Message, HeldRemovals = null };
            return (exception.Message, false);
        }
    }

    /// <summary>Applies a plan paced to the <see cref="SyncOptions"/> budget, so a big sync does not starve session set-up.</summary>
    private async Task<TokenApplyResult> ApplyPacedAsync(TokenPlan plan, CancellationToken cancellationToken)
    {
        var changes = plan.Upserts.Count + plan.Removals.Count;
        var settings = syncOptions.CurrentValue;
        var pacing = settings.PacingFor(changes, _interval);
        var started = Stopwatch.GetTimestamp();
        var result = await table.ApplyAsync(plan, pacing, cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        if (!pacing.IsPaced)
        {
            return result;
        }

        if (changes > pacing.WritesPerSecond)
        {
            // Only applies planned for over a second are worth a line: the ordinary interval's few changes are not.
            var planned = TimeSpan.FromSeconds(changes / pacing.WritesPerSecond);
            LogApplyPaced(logger, plan.Source, changes, pacing.WritesPerSecond, pacing.Parallelism, elapsed.TotalSeconds, planned.TotalSeconds);
        }

        // An apply of any size that runs well over its budget is worth a warning: a few thousand changes, under the
        // floor's one-second line, that took half a minute mean a token storage that answers slowly.
        if (settings.OverBudget(elapsed, _interval))
        {
            LogApplyBehind(logger, plan.Source, changes, elapsed.TotalSeconds, settings.BudgetFor(_interval).TotalSeconds, pacing.Parallelism);
        }

        return result;
    }

    /// <summary>One interval after the first failure, then twice as long each time, up to <see cref="TokenSync.MaxBackoff"/>.</summary>
    private TimeSpan Backoff(int failures)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 20));
        var cap = _interval > TokenSync.MaxBackoff ? _interval : TokenSync.MaxBackoff;
        return TimeSpan.FromTicks((long)Math.Min(_interval.Ticks * factor, cap.Ticks));
    }

    /// <summary>The timer only ticks every interval, so a wait really ends at the next tick.</summary>
    private static TimeSpan RoundUp(TimeSpan wait, TimeSpan interval) =>
        TimeSpan.FromTicks((wait.Ticks + interval.Ticks - 1) / interval.Ticks * interval.Ticks);

    [LoggerMessage(EventId = EventIds.SyncStarted, Level = LogLevel.Information,
        Message = "Token sync running on {Silo} every {Interval} from {Sources}")]
    private static partial void LogStarted(ILogger logger, string silo, TimeSpan interval, string sources);

    [LoggerMessage(EventId = EventIds.SyncCompleted, Level = LogLevel.Information,
        Message = "Token sync done: {Tokens} tokens, {Written} written, {Removed} removed in {ElapsedMs:0} ms")]
    private static partial void LogCompleted(ILogger logger, int tokens, int written, int removed, double elapsedMs);

    [LoggerMessage(EventId = EventIds.SyncFailed, Level = LogLevel.Warning,
        Message = "Token sync incomplete, every token kept: {Error} (failure {Failures} in a row; next try {NextRunAt:O})")]
    private static partial void LogFailed(ILogger logger, string error, int failures, DateTimeOffset? nextRunAt);

    [LoggerMessage(EventId = EventIds.SyncSourceFailed, Level = LogLevel.Warning,
        Message = "Token source {Source} failed; its tokens are kept: {Problem}")]
    private static partial void LogSourceFailed(ILogger logger, Exception? exception, string source, string problem);

    [LoggerMessage(EventId = EventIds.SyncMassRemovalHeld, Level = LogLevel.Error,
        Message = "MASS REMOVAL HELD: source {Source} would remove {Removals} of its {Previous} tokens (more than {MaxShare:P0}); " +
                  "every token is kept, and the removal happens only if the next sync gives exactly the same answer")]
    private static partial void LogMassRemovalHeld(ILogger logger, string source, int removals, int previous, double maxShare);

    [LoggerMessage(EventId = EventIds.SyncMassRemovalConfirmed, Level = LogLevel.Error,
        Message = "MASS REMOVAL CONFIRMED: source {Source} gave the same answer twice; removing {Removals} of its {Previous} tokens now")]
    private static partial void LogMassRemovalConfirmed(ILogger logger, string source, int removals, int previous);

    [LoggerMessage(EventId = EventIds.SyncApplyPaced, Level = LogLevel.Information,
        Message = "Token sync applied {Changes} changes from {Source} at up to {Rate:0}/s, {Parallelism} in flight, in {ElapsedSeconds:0.0} s (planned {PlannedSeconds:0.0} s)")]
    private static partial void LogApplyPaced(ILogger logger, string source, int changes, double rate, int parallelism, double elapsedSeconds, double plannedSeconds);

    [LoggerMessage(EventId = EventIds.SyncTimings, Level = LogLevel.Information,
        Message = "Token sync of {Source} took {LoadSeconds:0.0} s to load, {PlanSeconds:0.0} s to plan and {ApplySeconds:0.0} s to apply " +
                  "({IndexSeconds:0.0} s of it writing the index); garbage collection paused the node for {GcPauseSeconds:0.0} s of it")]
    private static partial void LogTimings(ILogger logger, string source, double loadSeconds, double planSeconds, double applySeconds, double indexSeconds,
        double gcPauseSeconds);

    [LoggerMessage(EventId = EventIds.SyncApplyBehind, Level = LogLevel.Warning,
        Message = "Token sync from {Source} ran over its budget: {Changes} changes took {ElapsedSeconds:0.0} s, budget {BudgetSeconds:0.0} s; " +
                  "the token storage answers slowly for {Parallelism} writes in flight (raise Sync:ApplyParallelism if it can take more)")]
    private static partial void LogApplyBehind(ILogger logger, string source, int changes, double elapsedSeconds, double budgetSeconds, int parallelism);

    [LoggerMessage(EventId = EventIds.SyncReminderUnavailable, Level = LogLevel.Warning,
        Message = "Token sync could not register its reminder (is a reminder service configured?); the node keepers still restart it")]
    private static partial void LogReminderUnavailable(ILogger logger, Exception exception);
}
