namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Redeems a single-use ticket once its token resolved, just before the target and lease checks: a refusal for another
/// cause before it (node draining, unknown VM) does not burn the ticket.
/// </summary>
public sealed class TicketRedemptionCheck(TicketGate gate) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken) => gate.RedeemAsync(context.Ticket, cancellationToken);
}
