using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>What the client presented, once read: the VM token to resolve, the ticket it came in, or why it is refused.</summary>
/// <param name="Token">The console token to resolve; null when nothing usable was presented.</param>
/// <param name="Ticket">The verified ticket, when the client presented one.</param>
/// <param name="Refused">Set when the presented text is refused before any lookup.</param>
public readonly record struct Presented(string? Token, ConsoleTicket? Ticket, Refusal? Refused);
