using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tickets;

internal sealed class TicketRedemptionGrain(
    [PersistentState("ticket", TicketStorage.Name)] IPersistentState<TicketRedemptionState> state,
    TimeProvider time) : Grain, ITicketRedemptionGrain
{
    /// <summary>Past the expiry, so that clocks a little apart between nodes cannot reopen a just-expired ticket.</summary>
    private static readonly TimeSpan ClockSkewMargin = TimeSpan.FromSeconds(30);

    private IGrainTimer? _cleanup;

    /// <summary>Attempts given back before their redemption arrived: a node that stopped waiting for a redemption gives it
    /// back at once, and the two calls may reach this grain in either order. A few suffice (one per timed-out attempt).</summary>
    private readonly Queue<string> _abandoned = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.RedeemedAt is not null)
        {
            // A record written by an activation that died (silo lost): clean it up when it has served its purpose.
            ScheduleCleanup(state.State.ExpiresAt);
        }

        return Task.CompletedTask;
    }

    public async Task<bool> RedeemAsync(DateTimeOffset expiresAt) =>
        await TryRedeemAsync(expiresAt, Guid.NewGuid().ToString("N")) == RedemptionAnswer.Redeemed;

    public async Task<RedemptionAnswer> TryRedeemAsync(DateTimeOffset expiresAt, string attempt)
    {
        // This grain's clock decides, not the asking node's: a node whose clock lags must not reopen an expired ticket
        // (and a record that expired from Redis must not make an expired ticket look unused).
        var now = time.GetUtcNow();
        if (now >= expiresAt)
        {
            return RedemptionAnswer.Expired;
        }

        if (state.State.RedeemedAt is not null || _abandoned.Contains(attempt))
        {
            // An abandoned attempt's node no longer waits for it: redeeming for it would only use the ticket up.
            return RedemptionAnswer.AlreadyUsed;
        }

        state.State.RedeemedAt = now;
        state.State.ExpiresAt = expiresAt;
        state.State.Attempt = attempt;
        try
        {
            // Written before answering: if the write fails (storage down, or a conflicting activation wrote first), the
            // call fails and the relay refuses this attempt (fail closed) ...
            await state.WriteStateAsync();
        }
        catch
        {
            // ... but memory must not run ahead of storage: the ticket was not redeemed, so a retry once storage is back
            // redeems it instead of saying "already used" to a user who never got a console.
            state.State.RedeemedAt = null;
            state.State.Attempt = null;
            throw;
        }

        ScheduleCleanup(expiresAt);
        return RedemptionAnswer.Redeemed;
    }

    public async Task<bool> GiveBackAsync(string attempt)
    {
        if (state.State.RedeemedAt is null || !string.Equals(state.State.Attempt, attempt, StringComparison.Ordinal))
        {
            if (state.State.RedeemedAt is null)
            {
                // Its redemption may still be on its way: refuse it when it comes.
                _abandoned.Enqueue(attempt);
                if (_abandoned.Count > 16)
                {
                    _abandoned.Dequeue();
                }
            }

            return false;
        }

        // Cleared in storage first: if that fails, the ticket stays used (fail closed) and the caller logs it.
        await state.ClearStateAsync();
        state.State = new TicketRedemptionState();
        _cleanup?.Dispose();
        _cleanup = null;
        return true;
    }

    private void ScheduleCleanup(DateTimeOffset expiresAt)
    {
        var due = expiresAt + ClockSkewMargin - time.GetUtcNow();
        if (due < TimeSpan.Zero)
        {
            due = TimeSpan.Zero;
        }

        // Stay active until then: the timer, not idle collection, ends this activation and its record. The Redis key
        // expires by itself as well (Cluster/TicketStorage), for a record whose activation died before its timer.
        DelayDeactivation(due + TimeSpan.FromSeconds(5));
        _cleanup?.Dispose();
        _cleanup = this.RegisterGrainTimer(async () =>
        {
            await state.ClearStateAsync();
            DeactivateOnIdle();
        }, new GrainTimerCreationOptions { DueTime = due, Period = Timeout.InfiniteTimeSpan });
    }
}
