namespace OrleansVncCluster.Relay.Admin;

/// <summary>What a caller of POST /api/tickets sends.</summary>
/// <param name="Token">The VM's console token.</param>
/// <param name="TtlSeconds">How long the ticket may open a console; Tickets:DefaultTtl when absent.</param>
/// <param name="SingleUse">Whether it opens one session only; Tickets:SingleUseByDefault when absent.</param>
/// <param name="Role">"control" (the default) or "view": a view session watches, its input never reaches the VM.</param>
public sealed record TicketRequest(string? Token, int? TtlSeconds, bool? SingleUse, string? Role = null);
