using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// Resolves console tokens for new sessions: a per-node cache with a short TTL in front of the token grains, and a
/// deadline on the grain call. When the grain cannot answer in time (its silo is dying), a stale cached entry is
/// still used: a console that worked a minute ago is better than a 30 s stall (orleans-notes: response timeout).
/// A revocation leaves a tombstone (issue 12, item 4): a lookup that was already in flight when the token was removed
/// answers with what the grain held before, so its answer is neither cached nor trusted; the grain is asked again.
/// Without a cached entry, a failed grain call reads the token's stored state instead (<see cref="StorageFallback"/>,
/// issue 17): a survivor admits the consoles of a silo killed a moment ago without waiting for its death declaration.
/// </summary>
public sealed partial class TokenResolver(
    IGrainFactory grains,
    IOptionsMonitor<TokenOptions> options,
    TimeProvider time,
    RelayMetrics metrics,
    StoredTokens stored,
    ILogger<TokenResolver> logger)
{
    private readonly ConcurrentDictionary<string, Slot> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _tombstones = new(StringComparer.Ordinal);

    /// <summary>Looks a token up.</summary>
    public async ValueTask<TokenLookup> ResolveAsync(string token, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        _cache.TryGetValue(token, out var cached);
        if (cached is not null && now < cached.FreshUntil)
        {
            metrics.LookupCacheHit();
            return Answer(cached.Entry);
        }

        metrics.LookupMiss();
        var settings = options.CurrentValue;
        ConsoleTokenEntry? entry;
        var asked = time.GetTimestamp();
        try
        {
            entry = await grains.ForKey<ITokenGrain>(token).GetAsync().WaitAsync(settings.LookupTimeout, time, cancellationToken);
            metrics.LookupTimed(time.GetElapsedTime(asked), entry is null ? "unknown" : "found");
            if (RevokedSince(token, now))
            {
                // The answer may predate the removal; the grain's answer now is after it, and is not cached either.
                return Answer(await grains.ForKey<ITokenGrain>(token).GetAsync().WaitAsync(settings.LookupTimeout, time, cancellationToken));
            }
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            metrics.LookupTimed(time.GetElapsedTime(asked), "unavailable");
            if (cached?.Entry is { } stale && !RevokedSince(token, now))
            {
                return new TokenLookup(LookupStatus.Found, stale, GrainUnanswered: true);
            }

            var read = await stored.ReadAsync(token, settings.LookupTimeout, cancellationToken);
            var fallback = StorageFallback.Decide(read, RevokedSince(token, now));
            metrics.LookupTimed(time.GetElapsedTime(asked), fallback.Status == LookupStatus.Found ? "storage" : "storage_unavailable");
            if (fallback.Status == LookupStatus.Found)
            {
                // Not cached: the next lookup asks the grain again, which answers once membership has moved it.
                LogAdmittedFromStorage(logger, TokenText.ForLog(token), exception.GetType().Name);
            }

            return fallback;
        }

        var ttl = entry is null ? settings.NegativeCacheTtl : settings.CacheTtl;
        if (ttl > TimeSpan.Zero)
        {
            if (_cache.Count >= settings.CacheCapacity)
            {
                Trim(now);
            }

            _cache[token] = new Slot(entry, now + (long)(ttl.TotalSeconds * time.TimestampFrequency));
            if (RevokedSince(token, now))
            {
                _cache.TryRemove(token, out _); // a revocation raced the write above
            }
        }

        return Answer(entry);
    }

    /// <summary>
    /// Answers <paramref name="token"/> from this node's cache for <paramref name="ttl"/> without asking its grain: the
    /// start-up rehearsal's token (Node/StartupRehearsal), which no other node knows and no storage holds.
    /// </summary>
    public void Remember(string token, ConsoleTokenEntry entry, TimeSpan ttl) =>
        _cache[token] = new Slot(entry, time.GetTimestamp() + (long)(ttl.TotalSeconds * time.TimestampFrequency));

    /// <summary>Forgets a token on this node (it was revoked or changed) and leaves a tombstone for lookups in flight.</summary>
    public void Invalidate(string token)
    {
        var now = time.GetTimestamp();
        if (_tombstones.Count >= options.CurrentValue.CacheCapacity)
        {
            // A tombstone matters only to lookups that started before it, and none outlives a minute.
            var old = now - (60 * time.TimestampFrequency);
            foreach (var (key, at) in _tombstones)
            {
                if (at < old)
                {
                    _tombstones.TryRemove(key, out _);
                }
            }
        }

        _tombstones[token] = now;
        _cache.TryRemove(token, out _);
    }

    private bool RevokedSince(string token, long started) => _tombstones.TryGetValue(token, out var at) && at >= started;

    private TokenLookup Answer(ConsoleTokenEntry? entry)
    {
        if (entry is null)
        {
            metrics.LookupUnknownToken();
            return new TokenLookup(LookupStatus.Unknown, null);
        }

        return new TokenLookup(LookupStatus.Found, entry);
    }

    private void Trim(long now)
    {
        // Expired and negative entries go first; if a flood of distinct valid tokens still fills it, start over.
        foreach (var (key, slot) in _cache)
        {
            if (slot.Entry is null || slot.FreshUntil <= now)
            {
                _cache.TryRemove(key, out _);
            }
        }

        if (_cache.Count >= options.CurrentValue.CacheCapacity)
        {
            _cache.Clear();
        }
    }

    [LoggerMessage(EventId = EventIds.TokenReadFromStorage, Level = LogLevel.Information,
        Message = "Token {Token} looked up in grain storage: its grain did not answer ({Error}), its silo is likely dead but not declared so yet")]
    private static partial void LogAdmittedFromStorage(ILogger logger, string token, string error);

    private sealed record Slot(ConsoleTokenEntry? Entry, long FreshUntil);
}
