using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// One session's way through admission: what the request presented, what the checks found (the ticket, the token's
/// entry), and what they took (leases) together with how to give it back.
/// </summary>
public sealed class AdmissionContext
{
    private readonly List<Action> _releases = [];
    private readonly List<Action<Refusal>> _onRefused = [];
    private readonly List<Func<Task>> _unlessRelayed = [];
    private ConsoleTokenEntry? _looked;

    /// <summary>Starts admission for one request.</summary>
    /// <param name="client">The client address (from X-Forwarded-For when the peer is a trusted proxy).</param>
    /// <param name="presented">The ticket or token text as presented (<see cref="TicketGate.ReadPresented"/>).</param>
    /// <param name="origin">The request's Origin header, empty when absent.</param>
    /// <param name="host">The request's Host header.</param>
    public AdmissionContext(string client, string? presented, string origin, string host)
    {
        Client = client;
        Presented = presented;
        Origin = origin;
        Host = host;
    }

    /// <summary>The client address.</summary>
    public string Client { get; }

    /// <summary>
    /// The id the session will have once admitted (12 random hex digits): its leases are taken under it, so the token's
    /// grain can say whether it still lives (the console page's presence call), and its resume credential names it.
    /// </summary>
    public string SessionId { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>The ticket or token text as presented; logs show it through <see cref="TokenText.ForLog"/> only.</summary>
    public string? Presented { get; }

    /// <summary>The request's Origin header.</summary>
    public string Origin { get; }

    /// <summary>The request's Host header.</summary>
    public string Host { get; }

    /// <summary>The node's own start-up rehearsal (Sessions/SessionRehearsal): the pipeline leaves out the checks that do
    /// not apply to it (<see cref="IAdmissionCheck.AppliesToRehearsal"/>), and no client's session limit is spent on it.</summary>
    public bool Rehearsal { get; init; }

    /// <summary>The key the client's limits count under (its address, or its IPv6 prefix).</summary>
    public string ClientKey { get; internal set; } = "";

    /// <summary>What <see cref="TicketCheck"/> made of the presented text: the VM token, and the ticket it came in.</summary>
    public Presented Ticket { get; internal set; }

    /// <summary>The console token the session is for (the one inside a ticket); null until the ticket check ran.</summary>
    public string? Token => Ticket.Token;

    /// <summary>What the token resolved to; its target is the checked address once the target check ran.</summary>
    public ConsoleTokenEntry? Entry { get; internal set; }

    /// <summary>The VM the token led to when it was looked up (<see cref="Tickets.TicketBinding.Of"/>), before the target check
    /// replaced the entry's address; a resume credential is bound to it. Null until <see cref="TicketVmCheck"/> ran.</summary>
    /// <remarks>Computed when asked for (a hash and three strings): only a page that may resume asks, once, not every session.</remarks>
    public string? Binding => _looked is { } looked ? Tickets.TicketBinding.Of(looked) : null;

    /// <summary>Binds the session to the entry its token led to at the lookup (<see cref="Binding"/>).</summary>
    internal void BindTo(ConsoleTokenEntry looked) => _looked = looked;

    /// <summary>The token lookup's answer did not come from the token's grain, which did not answer (<see cref="TokenLookup.GrainUnanswered"/>):
    /// the checks after it do not call that grain again in this admission (each call would wait out the same failure).</summary>
    public bool TokenGrainUnanswered { get; internal set; }

    /// <summary>The token's stored record the lookup read instead of asking its grain, or null.</summary>
    public StoredTokenRead? StoredToken { get; internal set; }

    /// <summary>Something a check took that the session gives back when it ends (or right away when a later check refuses).</summary>
    internal void Hold(Action release) => _releases.Add(release);

    /// <summary>Something a check wants to know when a later check refuses the session.</summary>
    internal void WhenRefused(Action<Refusal> observer) => _onRefused.Add(observer);

    /// <summary>Something a check took that the session gives back when it is admitted but never relays (a failed dial).</summary>
    internal void UnlessRelayed(Func<Task> giveBack) => _unlessRelayed.Add(giveBack);

    internal async Task NotRelayedAsync()
    {
        foreach (var giveBack in _unlessRelayed)
        {
            await giveBack();
        }

        _unlessRelayed.Clear();
    }

    internal void Refused(Refusal refusal)
    {
        foreach (var observer in _onRefused)
        {
            observer(refusal);
        }

        Release();
    }

    internal void Release()
    {
        foreach (var release in _releases)
        {
            release();
        }

        _releases.Clear();
    }
}
