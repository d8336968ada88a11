using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// The answer of <see cref="AdmissionPipeline.AdmitAsync"/>: a refusal, or a session to relay that holds what admission
/// took (its leases) until it is disposed.
/// </summary>
public sealed class AdmissionResult : IAsyncDisposable
{
    private readonly AdmissionContext _context;

    internal AdmissionResult(Refusal? refused, AdmissionContext context) => (Refused, _context) = (refused, context);

    /// <summary>Why the session is refused; null when it is admitted.</summary>
    public Refusal? Refused { get; }

    /// <summary>What to relay to; null when refused. Its target is the checked address when a target allow-list is set.</summary>
    public ConsoleTokenEntry? Entry => Refused is null ? _context.Entry : null;

    /// <summary>True when the session was opened with a "view" ticket: it watches, its input never reaches the VM.</summary>
    public bool ViewOnly => _context.Ticket.Ticket?.ViewOnly ?? false;

    /// <summary>The console token of the admitted session.</summary>
    public string Token => _context.Token ?? "";

    /// <summary>The admitted session's id (its leases are held under it).</summary>
    public string SessionId => _context.SessionId;

    /// <summary>The VM the session's token led to at admission (<see cref="Tickets.TicketBinding.Of"/>); null when refused.</summary>
    public string? Binding => Refused is null ? _context.Binding : null;

    /// <summary>The ticket the session was opened with, when it came with one (its VM, its user).</summary>
    public Tickets.ConsoleTicket? Ticket => _context.Ticket.Ticket;

    /// <summary>
    /// Says that the admitted session ended before relaying anything (the VM did not answer, the relay's VNC login or the
    /// browser's handshake failed): a single-use ticket is given back, so the user's retry can still open the console.
    /// </summary>
    public Task NotRelayedAsync() => Refused is null ? _context.NotRelayedAsync() : Task.CompletedTask;

    /// <summary>Gives back what admission took (in the background: the session is over, nobody waits on the grains).</summary>
    public ValueTask DisposeAsync()
    {
        _context.Release();
        return ValueTask.CompletedTask;
    }
}
