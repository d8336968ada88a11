namespace OrleansVncCluster.Relay.Tickets;

/// <summary>What a verified ticket grants: one VM's console, until an instant, maybe once.</summary>
/// <param name="KeyId">The key that signed (vt1) or sealed (vt2) it.</param>
/// <param name="Token">The console token it opens.</param>
/// <param name="ExpiresAt">After this instant it no longer opens a console; a session opened before it lives on.</param>
/// <param name="Nonce">Random, unique per ticket: the key of its single-use redemption.</param>
/// <param name="SingleUse">True when the cluster lets it open one session only.</param>
/// <param name="ViewOnly">True for a "view" ticket: the session watches, its input never reaches the VM.</param>
public sealed record ConsoleTicket(string KeyId, string Token, DateTimeOffset ExpiresAt, string Nonce, bool SingleUse, bool ViewOnly = false)
{
    /// <summary>1 for the legacy signed format, 2 for the sealed, VM-bound one.</summary>
    public int Version { get; init; } = 1;

    /// <summary>
    /// The VM the ticket was issued for (<see cref="TicketBinding.Of"/> of the token's entry at issue); null for vt1,
    /// which names an address only. The relay refuses the ticket when the token's entry now binds otherwise.
    /// </summary>
    public string? Binding { get; init; }

    /// <summary>The VM id at its source when the token's entry had one (Abiquo), for logs and the session list.</summary>
    public string? VmId { get; init; }

    /// <summary>Who the portal issued the ticket for (free text, for audit); null when it did not say.</summary>
    public string? User { get; init; }

    /// <summary>Which ways the clipboard may go in its session, at most: the cluster's Vnc:Clipboard narrowed further,
    /// never widened. Tickets issued without a choice (and every ticket from before the choice) say both.</summary>
    public ClipboardDirections Clipboard { get; init; } = ClipboardDirections.Both;

    /// <summary>True when the portal asked for the session to be recorded (<c>"record": true</c>): it is then recorded or
    /// refused. A ticket sealed before this flag existed did not ask.</summary>
    public bool Record { get; init; }

    /// <summary>
    /// Set when this is no ticket but a resume credential (<see cref="ResumeText"/>): the id of the session it resumes.
    /// Such a grant is never single-use; it is bound to the VM, role and user of that session.
    /// </summary>
    public string? ResumedSession { get; init; }

    /// <summary>
    /// True when the holder of this control ticket may hand out view-only links to its console from the page (the share
    /// button). Carried into the session's resume credential; false for every view ticket and every ticket sealed before
    /// the flag existed.
    /// </summary>
    public bool MayShare { get; init; }
}
