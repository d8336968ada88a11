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

    /// <summary>Gives back what admission took (in the background: the session is over, nobody waits on the grains).</summary>
    public ValueTask DisposeAsync()
    {
        _context.Release();
        return ValueTask.CompletedTask;
    }
}
