namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Redeems a single-use ticket as the LAST step of admission: every other refusal (drain, unknown token, another VM,
/// target policy, leases) comes first and leaves the ticket usable. The dial comes after admission, so a session that
/// never relays (the VM does not answer, the relay's VNC login fails) gives its redemption back
/// (<see cref="AdmissionResult.NotRelayedAsync"/>); only the attempt that redeemed may give it back.
/// </summary>
public sealed class TicketRedemptionCheck(TicketGate gate) : IAdmissionCheck
{
    /// <inheritdoc/>
    public async ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        if (context.Ticket.Ticket is not { SingleUse: true } ticket)
        {
            return null;
        }

        var attempt = Guid.NewGuid().ToString("N");
        if (await gate.RedeemAsync(ticket, attempt, cancellationToken) is { } refused)
        {
            return refused;
        }

        context.UnlessRelayed(() => gate.GiveBackAsync(ticket, attempt));
        return null;
    }
}
