using Orleans.Concurrency;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>One console token, keyed by the token text. Persisted in the "tokens" grain storage. It also counts the token's
/// live sessions across the cluster as leases (<see cref="ISessionLeaseHolder"/>, Limits:MaxSessionsPerToken).</summary>
[Alias("vnc.ITokenGrain")]
public interface ITokenGrain : IGrainWithStringKey, ISessionLeaseHolder
{
    /// <summary>
    /// Whether the session holding <paramref name="leaseId"/> still lives somewhere in the cluster, and how many others
    /// watch this console (view sessions): the console page's presence call (Sessions/PresenceEndpoint).
    /// </summary>
    [ReadOnly, Alias("Presence")]
    Task<LeasePresence> PresenceAsync(string leaseId);

    /// <summary>
    /// Refuses, until <paramref name="until"/>, every resume credential of session <paramref name="sessionId"/>: an
    /// administrator closed it, and the page's credential must not bring it back (Admission/ResumeCheck). Persisted with the
    /// entry (<see cref="TokenState.ClosedSessions"/>), so a survivor can read it while this grain's silo is dead; the
    /// window it covers (Tickets:ResumeWindow) is minutes.
    /// </summary>
    [Alias("ForbidResume")]
    Task ForbidResumeAsync(string sessionId, DateTimeOffset until);

    /// <summary>Whether session <paramref name="sessionId"/> may be resumed (no administrator closed it within the window).</summary>
    [ReadOnly, Alias("MayResume")]
    Task<bool> MayResumeAsync(string sessionId);

    /// <summary>The token's entry, or null when the token is unknown.</summary>
    [ReadOnly, Alias("Get")]
    Task<ConsoleTokenEntry?> GetAsync();

    /// <summary>Writes the entry; returns false when it already held the same content (no write happened).
    /// A changed target revokes the live sessions that used the old one.</summary>
    [Alias("Set")]
    Task<bool> SetAsync(ConsoleTokenEntry entry);

    /// <summary>Deletes the token if <paramref name="source"/> wrote it (null: whoever wrote it) and revokes its
    /// live sessions; returns false when there was nothing to delete.</summary>
    [Alias("Remove")]
    Task<bool> RemoveAsync(string? source);

    /// <summary>Deletes the token whoever wrote it and revokes its live sessions as an operator's act
    /// (<see cref="Cluster.RevocationCause.RevokedByOperator"/>); returns the source that had written it, or null
    /// when the token was unknown.</summary>
    [Alias("RevokeByOperator")]
    Task<string?> RevokeByOperatorAsync();
}
