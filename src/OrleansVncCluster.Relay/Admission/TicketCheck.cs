namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Reads what the client presented: a ticket is verified and stands for the VM token inside it from now on (sessions,
/// revocation, logs); a plain token passes while plain tokens are accepted (<see cref="TicketGate"/>).
/// </summary>
public sealed class TicketCheck(TicketGate gate) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        context.Ticket = gate.Admit(context.Presented);
        return ValueTask.FromResult(context.Ticket.Refused);
    }
}
