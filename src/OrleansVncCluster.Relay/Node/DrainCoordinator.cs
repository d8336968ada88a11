using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Planned drain: stop taking sessions (readiness 503, HAProxy agent "drain"), let live sessions continue for the drain
/// budget, then close the rest with 1012 so noVNC reconnects through HAProxy to another node. SIGTERM drains first:
/// <see cref="IHostedLifecycleService.StoppingAsync"/> runs before Kestrel and the silo stop.
/// </summary>
public sealed partial class DrainCoordinator(
    DrainState state, SessionRegistry sessions, IOptionsMonitor<RelayOptions> options, TimeProvider time, ILogger<DrainCoordinator> logger)
    : IHostedLifecycleService
{
    private readonly Lock _gate = new();
    private Task? _drain;
    private CancellationTokenSource? _undrain;
    private bool _stopping;

    /// <summary>Starts a drain (idempotent) and returns the task that completes when no session is left.</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            if (_drain is null)
            {
                _undrain = new CancellationTokenSource();
                _drain = RunAsync(_undrain.Token);
            }

            return _drain;
        }
    }

    /// <summary>
    /// Cancels a drain an operator started (<c>DELETE /api/drain</c>, <c>vnc-relay undrain</c>): the node takes sessions
    /// again and the live ones are not closed when the budget runs out. Refused while the node shuts down, whose drain
    /// must run to its end. Returns whether a drain was cancelled.
    /// </summary>
    public UndrainResult Undrain()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return UndrainResult.ShuttingDown;
            }

            if (_drain is null)
            {
                return UndrainResult.NotDraining;
            }

            _undrain!.Cancel();
            _undrain.Dispose();
            _undrain = null;
            _drain = null;
            state.Stop();
            LogUndrained(logger, sessions.Count);
            return UndrainResult.Undrained;
        }
    }

    private async Task RunAsync(CancellationToken undrained)
    {
        state.Start();
        var budget = options.CurrentValue.DrainBudget;
        LogDraining(logger, sessions.Count, budget.TotalSeconds);
        using (var deadline = new CancellationTokenSource(budget, time))
        using (var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, undrained))
        {
            try
            {
                await sessions.WaitUntilEmptyAsync(either.Token);
            }
            catch (OperationCanceledException) when (undrained.IsCancellationRequested)
            {
                // An operator cancelled the drain: the live sessions stay.
                return;
            }
            catch (OperationCanceledException)
            {
                // Budget spent: the remaining sessions are moved below.
            }
        }

        var closed = sessions.StopAll(CloseReasons.ServiceRestart, CloseReasons.DrainingText);
        if (closed > 0)
        {
            LogClosing(logger, closed);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            try
            {
                await sessions.WaitUntilEmptyAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopping = true;
        }

        return DrainAsync();
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = EventIds.Draining, Level = LogLevel.Warning,
        Message = "Draining: no new sessions; {Sessions} live session(s) may continue for up to {BudgetSeconds:F0} s")]
    private static partial void LogDraining(ILogger logger, int sessions, double budgetSeconds);

    [LoggerMessage(EventId = EventIds.Undrained, Level = LogLevel.Warning,
        Message = "Drain cancelled by an operator: taking sessions again; {Sessions} live session(s) go on")]
    private static partial void LogUndrained(ILogger logger, int sessions);

    [LoggerMessage(EventId = EventIds.SessionsClosed, Level = LogLevel.Warning,
        Message = "Drain budget spent: closing {Sessions} session(s) with 1012 so their browsers reconnect elsewhere")]
    private static partial void LogClosing(ILogger logger, int sessions);
}

/// <summary>What <see cref="DrainCoordinator.Undrain"/> did.</summary>
public enum UndrainResult
{
    /// <summary>The drain was cancelled: the node takes sessions again.</summary>
    Undrained,

    /// <summary>The node was not draining; nothing changed.</summary>
    NotDraining,

    /// <summary>The node is shutting down: its drain goes on.</summary>
    ShuttingDown,
}
