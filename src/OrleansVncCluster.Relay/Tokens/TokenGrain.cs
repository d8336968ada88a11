using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Holds one console token. Removal and retargeting are broadcast to every node so live sessions end.</summary>
internal sealed partial class TokenGrain(
    [PersistentState(TokenGrain.StateName, TokenStorage.Name)] IPersistentState<TokenState> state,
    TimeProvider time,
    ILogger<TokenGrain> logger) : Grain, ITokenGrain
{
    /// <summary>The state's name in the "tokens" storage (part of its Redis key): StoredTokens reads the same record.</summary>
    internal const string StateName = "token";

    public Task<ConsoleTokenEntry?> GetAsync()
    {
        // The hot path of every session set-up: a known token answers without an await.
        return state.State.Entry is { } entry ? Task.FromResult<ConsoleTokenEntry?>(entry) : GetUnknownAsync();
    }

    private async Task<ConsoleTokenEntry?> GetUnknownAsync()
    {
        await CatchUpIfEmptyAsync();
        if (state.State.Entry is null)
        {
            // Unknown tokens (guesses, typos) must not keep an activation alive each: leave as soon as possible.
            DeactivateOnIdle();
        }

        return state.State.Entry;
    }

    /// <summary>
    /// Re-reads storage when this activation holds no entry: a bulk sync creates new tokens' records in storage without
    /// going through their grains (<see cref="StoredTokens.TryCreateAsync"/>), so an empty activation may be behind
    /// storage (one that answered a presence call, or outlived a removal). A known token never pays this read.
    /// </summary>
    private async ValueTask CatchUpIfEmptyAsync()
    {
        if (state.State.Entry is null)
        {
            await state.ReadStateAsync();
        }
    }

    public async Task<bool> SetAsync(ConsoleTokenEntry entry)
    {
        await CatchUpIfEmptyAsync();
        var previous = state.State.Entry;
        if (entry.SameContentAs(previous))
        {
            return false;
        }

        state.State.Entry = entry with { SetAt = time.GetUtcNow() };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory must not run ahead of storage: the retry would find "same content", write nothing and report
            // success, and the token would vanish with the activation (seen in a Sentinel failover: the write reached a
            // replica that was not promoted yet, READONLY, and the token file's retry then wrote nothing).
            state.State.Entry = previous;
            throw;
        }

        if (previous is not null && previous.Target != entry.Target)
        {
            LogRetargeted(logger, TokenText.ForLog(this.GetPrimaryKeyString()), previous.Target, entry.Target);
            await RevokeAsync(RevocationCause.Retargeted);
        }

        return true;
    }

    public async Task<bool> RemoveAsync(string? source)
    {
        await CatchUpIfEmptyAsync();
        var current = state.State.Entry;
        if (current is null || (source is not null && current.Source != source))
        {
            return false;
        }

        await RemoveAsync(RevocationCause.Removed);
        return true;
    }

    public async Task<string?> RevokeByOperatorAsync()
    {
        await CatchUpIfEmptyAsync();
        if (state.State.Entry is not { } current)
        {
            DeactivateOnIdle();
            return null;
        }

        await RemoveAsync(RevocationCause.RevokedByOperator);
        return current.Source;
    }

    /// <summary>
    /// Records an administrator's close in storage before memory is trusted with it (as <see cref="SetAsync"/> does), so it
    /// outlives this activation and a survivor's storage read sees it. The session's lease goes with it.
    /// </summary>
    public async Task ForbidResumeAsync(string sessionId, DateTimeOffset until)
    {
        await Leases.ReleaseAsync(sessionId);
        await CatchUpIfEmptyAsync();
        if (state.State.Entry is null)
        {
            return; // the token is gone: a resume is refused by its lookup, and no record is written for it
        }

        var previous = state.State.ClosedSessions;
        var now = time.GetUtcNow();
        var closed = previous is null
            ? new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal)
            : previous.Where(pair => pair.Value > now).ToDictionary(StringComparer.Ordinal); // expired closes go with this write
        closed[sessionId] = until;
        state.State.ClosedSessions = closed;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.ClosedSessions = previous;
            throw;
        }
    }

    public Task<bool> MayResumeAsync(string sessionId) => Task.FromResult(state.State.MayResume(sessionId, time.GetUtcNow()));

    /// <summary>The one removal path: storage first, then the broadcast, so no node can re-read the token after it.</summary>
    private async Task RemoveAsync(RevocationCause cause)
    {
        await state.ClearStateAsync();
        state.State.Entry = null;
        await RevokeAsync(cause);
        DeactivateOnIdle();
    }

    private Task RevokeAsync(RevocationCause cause) =>
        GrainFactory.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).RevokeAsync(this.GetPrimaryKeyString(), cause);

    [LoggerMessage(EventId = EventIds.TokenRetargeted, Level = LogLevel.Information,
        Message = "Token {Token} now leads to {NewTarget} instead of {OldTarget}; its live sessions are revoked")]
    private static partial void LogRetargeted(ILogger logger, string token, ConsoleTarget oldTarget, ConsoleTarget newTarget);
}
