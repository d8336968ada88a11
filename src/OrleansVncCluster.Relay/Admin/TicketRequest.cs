namespace OrleansVncCluster.Relay.Admin;

/// <summary>What a caller of POST /api/tickets sends: the VM by its console token, by its VM id, or both.</summary>
/// <param name="Token">The VM's console token; optional when <paramref name="Vm"/> is given.</param>
/// <param name="TtlSeconds">How long the ticket may open a console; Tickets:DefaultTtl when absent.</param>
/// <param name="SingleUse">Whether it opens one session only; Tickets:SingleUseByDefault (true) when absent.</param>
/// <param name="Role">"control" (the default) or "view": a view session watches, its input never reaches the VM.</param>
/// <param name="Vm">The VM's id at its source (Abiquo's numeric id): the ticket opens that VM's console only.</param>
/// <param name="User">Who the ticket is for (the portal's user name), carried in the sealed ticket for audit.</param>
/// <param name="Clipboard">"both" (the default), "to-vm", "from-vm" or "none": which ways the session's clipboard may go.
/// It only narrows the cluster's Vnc:Clipboard, never widens it.</param>
/// <param name="Share">Whether the console page may hand out view-only links to this console (its share button); control
/// tickets only, false when absent.</param>
/// <param name="Record">True asks for the session to be recorded: it is then recorded or refused (docs/RECORDING.md). Refused
/// with 400 when recording is not configured or Recording:AllowPerTicket is false.</param>
public sealed record TicketRequest(string? Token, int? TtlSeconds, bool? SingleUse, string? Role = null, string? Vm = null, string? User = null,
    string? Clipboard = null, bool? Share = null, bool? Record = null);
