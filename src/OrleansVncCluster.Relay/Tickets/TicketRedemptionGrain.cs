using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The single use of one single-use ticket, keyed by the ticket's nonce. One activation in the cluster serialises
/// concurrent redemptions; the redemption is persisted in the token storage (Redis in a cluster), so the silo holding
/// it may die and the next activation, on another silo, still says "already used".
/// </summary>
[Alias("vnc.ITicketRedemptionGrain")]
public interface ITicketRedemptionGrain : IGrainWithStringKey
{
    /// <summary>True the first time, false ever after (until the record is dropped once the ticket expired).</summary>
    [Alias("Redeem")]
    Task<bool> RedeemAsync(DateTimeOffset expiresAt);
}

/// <summary>The persisted state of a redemption.</summary>
[GenerateSerializer, Alias("vnc.TicketRedemptionState")]
public sealed class TicketRedemptionState
{
    /// <summary>When the ticket was redeemed, null before.</summary>
    [Id(0)] public DateTimeOffset? RedeemedAt { get; set; }

    /// <summary>The ticket's expiry: after it the record serves nothing (the ticket is refused as expired anyway).</summary>
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }
}

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
