using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// A vt2 ticket opens the VM it was issued for, not whatever its token leads to now: when Abiquo gave the ticket's
/// address to another VM (A powered off or moved, B of another tenant on A's old port), the token's entry names B and the
/// ticket for A is refused with 4412. Runs right after the lookup, before redemption, so the refusal leaves a single-use
/// ticket unused (it would not open later either, but a reused address may be given back).
/// </summary>
public sealed partial class TicketVmCheck(ILogger<TicketVmCheck> logger) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        if (context.Entry is { } looked)
        {
            context.BindTo(looked);
        }

        if (context.Ticket.Ticket is not { } ticket || context.Entry is not { } entry || TicketBinding.Matches(ticket, entry))
        {
            return ValueTask.FromResult<Refusal?>(null);
        }

        LogOtherVm(logger, context.Client, TokenText.ForLog(context.Token), ticket.VmId ?? "(token entry)", entry.Vm?.Id ?? "(none)", entry.Vm?.Enterprise ?? "(none)");
        return ValueTask.FromResult<Refusal?>(new Refusal(CloseReasons.TicketOtherVm, CloseReasons.TicketOtherVmText, "ticket_vm_mismatch"));
    }

    [LoggerMessage(EventId = EventIds.TicketVmMismatch, Level = LogLevel.Warning,
        Message = "Refused a ticket from {Client} for token {Token}: it was issued for VM {TicketVm}, and the token now leads to VM {CurrentVm} of enterprise {CurrentEnterprise} (address reused)")]
    private static partial void LogOtherVm(ILogger logger, string client, string token, string ticketVm, string currentVm, string currentEnterprise);
}
