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

    /// <summary>Starts a drain (idempotent) and returns the task that completes when no session is left.</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            return _drain ??= RunAsync();
        }
    }

    private async Task RunAsync()
    {
        state.Start();
        var budget = options.CurrentValue.DrainBudget;
        LogDraining(logger, sessions.Count, budget.TotalSeconds);
        using (var deadline = new CancellationTokenSource(budget, time))
        {
            try
            {
                await sessions.WaitUntilEmptyAsync(deadline.Token);
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

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => DrainAsync();

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = EventIds.Draining, Level = LogLevel.Warning,
        Message = "Draining: no new sessions; {Sessions} live session(s) may continue for up to {BudgetSeconds:F0} s")]
    private static partial void LogDraining(ILogger logger, int sessions, double budgetSeconds);

    [LoggerMessage(EventId = EventIds.SessionsClosed, Level = LogLevel.Warning,
        Message = "Drain budget spent: closing {Sessions} session(s) with 1012 so their browsers reconnect elsewhere")]
    private static partial void LogClosing(ILogger logger, int sessions);
}
