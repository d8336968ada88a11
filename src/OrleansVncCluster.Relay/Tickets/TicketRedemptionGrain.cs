using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tickets;

internal sealed class TicketRedemptionGrain(
    [PersistentState("ticket", TokenStorage.Name)] IPersistentState<TicketRedemptionState> state,
    TimeProvider time) : Grain, ITicketRedemptionGrain
{
    /// <summary>Past the expiry, so that clocks a little apart between nodes cannot reopen a just-expired ticket.</summary>
    private static readonly TimeSpan ClockSkewMargin = TimeSpan.FromSeconds(30);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.RedeemedAt is not null)
        {
            // A record written by an activation that died (silo lost): clean it up when it has served its purpose.
            ScheduleCleanup(state.State.ExpiresAt);
        }

        return Task.CompletedTask;
    }

    public async Task<bool> RedeemAsync(DateTimeOffset expiresAt)
    {
        if (state.State.RedeemedAt is not null)
        {
            return false;
        }

        state.State.RedeemedAt = time.GetUtcNow();
        state.State.ExpiresAt = expiresAt;
        // Written before answering: if the write fails (storage down, or a conflicting activation wrote first), the call
        // fails and the relay refuses the ticket. Fail closed.
        await state.WriteStateAsync();
        ScheduleCleanup(expiresAt);
        return true;
    }

    private void ScheduleCleanup(DateTimeOffset expiresAt)
    {
        var due = expiresAt + ClockSkewMargin - time.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        // Stay active until then: the timer, not idle collection, ends this activation and its record.
        DelayDeactivation(due + TimeSpan.FromSeconds(5));
        this.RegisterGrainTimer(async () =>
        {
            await state.ClearStateAsync();
            DeactivateOnIdle();
        }, new GrainTimerCreationOptions { DueTime = due, Period = Timeout.InfiniteTimeSpan });
    }
}
