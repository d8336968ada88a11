namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// What a token lookup answers from the token's stored state when its grain could not answer (issue 17): the grain sat on a
/// silo that just died, and calls to it fail until membership declares that silo dead (seconds). The grain writes storage
/// before its memory and clears storage before it broadcasts a removal (TokenGrain), so a stored entry is the answer the
/// grain would give. Storage may only admit: a missing record, a failed read or a revocation seen since the lookup began
/// leave the lookup unavailable (1013, try again), never "unknown" on the strength of a read made around the grain.
/// </summary>
public static class StorageFallback
{
    /// <summary>Decides the lookup's answer from a storage read.</summary>
    /// <param name="read">The storage read.</param>
    /// <param name="revokedSinceAsked">Whether this node heard the token revoked since the lookup began (a tombstone).</param>
    public static TokenLookup Decide(StoredTokenRead read, bool revokedSinceAsked) =>
        read is { Succeeded: true, Entry: { } entry } && !revokedSinceAsked
            ? new TokenLookup(LookupStatus.Found, entry, GrainUnanswered: true, Stored: read)
            : new TokenLookup(LookupStatus.Unavailable, null, GrainUnanswered: true);

    /// <summary>
    /// Decides from a storage read whether a resume credential of <paramref name="sessionId"/> may bring its session back
    /// (Admission/ResumeCheck, when the token's grain could not answer): null when the read says nothing (failed, or no
    /// stored entry), so the resume stays refused for now (1013); otherwise what the grain would answer, since it writes an
    /// administrator's close to storage before the session ends.
    /// </summary>
    public static bool? MayResume(StoredTokenRead read, string sessionId, DateTimeOffset now) =>
        read is { Succeeded: true, Entry: not null, State: { } state } ? state.MayResume(sessionId, now) : null;
}
