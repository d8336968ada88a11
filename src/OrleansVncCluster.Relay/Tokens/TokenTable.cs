using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Unicode;
using Orleans.Core.Internal;
using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>
/// Writes a source's desired token set into the token grains, touching only what changed. Sources (token files, the
/// Abiquo sync, the admin API) describe the whole table they want; this turns that into per-token writes and deletes,
/// so running it twice, or on two nodes at once, ends in the same state.
/// </summary>
public sealed class TokenTable(IGrainFactory grains, TimeProvider time, StoredTokens? stored)
{
    /// <summary>In an index, a fingerprint no entry has: the next plan writes (or deletes) the token again.</summary>
    private const string RetryFingerprint = "";

    private readonly TokenIndex _index = new(grains);

    /// <summary>A table that writes every token through its grain.</summary>
    public TokenTable(IGrainFactory grains, TimeProvider time)
        : this(grains, time, null)
    {
    }

    /// <summary>A table on the system clock that writes every token through its grain.</summary>
    public TokenTable(IGrainFactory grains)
        : this(grains, TimeProvider.System)
    {
    }

    /// <summary>Compares <paramref name="desired"/> with what <paramref name="source"/> last wrote.</summary>
    public async Task<TokenPlan> PlanAsync(string source, IReadOnlyDictionary<string, ConsoleTokenEntry> desired) =>
        Plan(source, desired, await _index.ReadAsync(source));

    /// <summary>What <paramref name="source"/> last wrote (its index), for <see cref="Plan"/>: a sync reads it while its
    /// source loads, since at 1,000,000 tokens it takes over a second.</summary>
    public Task<ShardedIndex> ReadIndexAsync(string source) => _index.ReadAsync(source);

    /// <summary>Compares <paramref name="desired"/> with <paramref name="current"/>, what <paramref name="source"/> last
    /// wrote (<see cref="ReadIndexAsync"/>).</summary>
    public static TokenPlan Plan(string source, IReadOnlyDictionary<string, ConsoleTokenEntry> desired, ShardedIndex current)
    {
        var upserts = new Dictionary<string, ConsoleTokenEntry>(StringComparer.Ordinal);
        var index = new ShardedIndex(desired.Count);
        var vms = new ShardedIndex(desired.Count);
        var unchanged = 0;
        foreach (var (token, entry) in desired)
        {
            if (entry.Vm?.Id is { Length: > 0 } vmId)
            {
                vms[vmId] = token;
            }

            // The token's part in the new index and the old one alike: its shard is hashed once.
            var shard = TokenIndex.ShardOf(token);
            var fingerprint = Fingerprint(entry);
            index.Part(shard)[token] = fingerprint;
            if (current.Part(shard).TryGetValue(token, out var old) && old == fingerprint)
            {
                unchanged++;
            }
            else
            {
                upserts[token] = entry;
            }
        }

        var removals = new List<string>();
        for (var shard = 0; shard < TokenIndex.Shards; shard++)
        {
            foreach (var token in current.Part(shard).Keys)
            {
                if (!desired.ContainsKey(token))
                {
                    removals.Add(token);
                }
            }
        }

        return new TokenPlan(source, upserts, removals, unchanged, current.Count, index) { PreviousIndex = current, NewVms = vms };
    }

    /// <summary>Applies a plan as fast as <see cref="TokenApplyPacing.Unpaced"/> allows.</summary>
    public Task<TokenApplyResult> ApplyAsync(TokenPlan plan, CancellationToken cancellationToken) =>
        ApplyAsync(plan, TokenApplyPacing.Unpaced, cancellationToken);

    /// <summary>
    /// Applies a plan, writes and removals mixed evenly, spread as <paramref name="pacing"/> says. Failed writes and removals
    /// stay in the index with a fingerprint no entry has, so the next plan retries them. When cancelled, the index still
    /// records exactly what was done (and the previous state of what was not) before the cancellation is thrown, so the
    /// next plan neither misses a token written here nor forgets one still to delete.
    /// </summary>
    public async Task<TokenApplyResult> ApplyAsync(TokenPlan plan, TokenApplyPacing pacing, CancellationToken cancellationToken)
    {
        var pacer = new WritePacer(pacing.WritesPerSecond, time);
        var outcomes = new Outcomes();
        var work = Interleave(plan.Upserts.Select(pair => (Token: pair.Key, Entry: (ConsoleTokenEntry?)pair.Value)), plan.Upserts.Count,
            plan.Removals.Select(token => (Token: token, Entry: (ConsoleTokenEntry?)null)), plan.Removals.Count);
        var options = new ParallelOptions { MaxDegreeOfParallelism = pacing.Parallelism, CancellationToken = cancellationToken };
        try
        {
            await Parallel.ForEachAsync(work, options, async (item, ct) =>
            {
                await pacer.WaitTurnAsync(ct);
                try
                {
                    if (item.Entry is { } entry)
                    {
                        await WriteAsync(item.Token, entry, pacing.LeaveNewTokensInactive && !plan.PreviousIndex.ContainsKey(item.Token));
                    }
                    else
                    {
                        await grains.ForKey<ITokenGrain>(item.Token).RemoveAsync(plan.Source);
                    }

                    outcomes.Done(item.Token, item.Entry is not null);
                }
                catch (Exception)
                {
                    // Whether it landed is unknown (a timeout may come after the write): retry it next time.
                    outcomes.Failed(item.Token);
                }
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _index.WriteAsync(plan.Source, outcomes.PartialIndex(plan), plan.NewVms);
            throw;
        }

        var indexing = time.GetTimestamp();
        await _index.WriteAsync(plan.Source, outcomes.CompleteIndex(plan), plan.NewVms);
        return new TokenApplyResult(outcomes.Written, outcomes.Removed, plan.Unchanged, outcomes.FailedCount) { IndexWrite = time.GetElapsedTime(indexing) };
    }

    /// <summary>
    /// <paramref name="first"/> and <paramref name="second"/> mixed evenly, each in its own order: writes and removals
    /// then share the apply's pace. A removal goes through its grain and takes several times as long as a create in
    /// storage, so removals queued behind every write fell behind the pace with all writes in flight held by them
    /// (a 1 % re-sync of 1,000,000 VMs: 8,650 creates, then 8,350 removals, 14 s where 12 were planned).
    /// </summary>
    internal static IEnumerable<T> Interleave<T>(IEnumerable<T> first, int firstCount, IEnumerable<T> second, int secondCount)
    {
        using var a = first.GetEnumerator();
        using var b = second.GetEnumerator();
        var total = (long)firstCount + secondCount;
        var fromFirst = 0L;
        for (var taken = 1L; taken <= total; taken++)
        {
            // The first's share of the items so far, rounded down, grows by at most one a step: take one when behind it.
            var behind = fromFirst < taken * firstCount / total;
            if (!(behind ? a : b).MoveNext())
            {
                yield break;
            }

            fromFirst += behind ? 1 : 0;
            yield return behind ? a.Current : b.Current;
        }
    }

    /// <summary>
    /// Writes one token. <paramref name="leaveInactive"/> (only for tokens new to the source, as a known one may be in
    /// use): create its record in storage if it has none, else write through the grain and let the grain go.
    /// </summary>
    private async Task WriteAsync(string token, ConsoleTokenEntry entry, bool leaveInactive)
    {
        if (leaveInactive && stored is not null && await stored.TryCreateAsync(token, entry with { SetAt = time.GetUtcNow() }))
        {
            return;
        }

        var grain = grains.ForKey<ITokenGrain>(token);
        await grain.SetAsync(entry);
        if (leaveInactive)
        {
            await DeactivateAsync(grain);
        }
    }

    /// <summary>Lets a freshly written token grain go.</summary>
    private static async Task DeactivateAsync(ITokenGrain grain)
    {
        try
        {
            await grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        }
        catch (Exception)
        {
            // The token is written; an activation left behind costs memory until idle collection, nothing else.
        }
    }

    /// <summary>Plans and applies in one step.</summary>
    public async Task<TokenApplyResult> ReplaceSourceAsync(string source, IReadOnlyDictionary<string, ConsoleTokenEntry> desired, CancellationToken cancellationToken) =>
        await ApplyAsync(await PlanAsync(source, desired), cancellationToken);

    /// <summary>A short, stable digest of everything in an entry except when it was written.</summary>
    /// <remarks>
    /// Stored in every source's index, so its bytes never change: SHA-256 of the fields joined by U+001F in UTF-8 (null
    /// as empty), first 12 bytes in base64. A sync fingerprints every token it loads, 834,717 at 1,000,000 VMs, so the
    /// fields are formatted on the stack; joining them into a string and its UTF-8 copy cost two allocations a token.
    /// Computed once per entry: a re-sync reuses the entries that did not change, with their fingerprint.
    /// </remarks>
    public static string Fingerprint(ConsoleTokenEntry entry) => entry.CachedFingerprint ??= ComputeFingerprint(entry);

    private static string ComputeFingerprint(ConsoleTokenEntry entry)
    {
        Span<byte> hash = stackalloc byte[32];
        Span<byte> text = stackalloc byte[512];
        byte[]? rented = null;
        int written;
        while (!TryFormatFingerprinted(entry, text, out written))
        {
            // Fields longer than the stack buffer (a label of hundreds of non-ASCII characters): a pooled one, doubling.
            var larger = ArrayPool<byte>.Shared.Rent(text.Length * 2);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }

            text = rented = larger;
        }

        SHA256.HashData(text[..written], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return Convert.ToBase64String(hash[..12]);
    }

    /// <summary>The fingerprinted bytes of <paramref name="entry"/>: its fields joined by U+001F in UTF-8, null as empty.</summary>
    private static bool TryFormatFingerprinted(ConsoleTokenEntry entry, Span<byte> destination, out int written)
    {
        var (target, vm) = (entry.Target, entry.Vm);
        return Utf8.TryWrite(destination, CultureInfo.InvariantCulture,
            $"{target.Host}\u001f{target.Port}\u001f{target.UnixSocket}\u001f{vm?.Id}\u001f{vm?.Name}\u001f{vm?.Label}\u001f{vm?.Enterprise}\u001f{vm?.Hypervisor}\u001f{entry.Password}\u001f{entry.Source}",
            out written);
    }

    /// <summary>What happened to each token of an apply; written from the parallel workers.</summary>
    private sealed class Outcomes
    {
        private readonly Lock _lock = new();
        private readonly List<string> _written = [];
        private readonly List<string> _removed = [];
        private readonly List<string> _failed = [];

        public int Written => _written.Count;

        public int Removed => _removed.Count;

        public int FailedCount => _failed.Count;

        public void Done(string token, bool write)
        {
            lock (_lock)
            {
                (write ? _written : _removed).Add(token);
            }
        }

        public void Failed(string token)
        {
            lock (_lock)
            {
                _failed.Add(token);
            }
        }

        /// <summary>The plan's new index, with every failure marked for a retry.</summary>
        public ShardedIndex CompleteIndex(TokenPlan plan)
        {
            var index = plan.NewIndex;
            foreach (var token in _failed)
            {
                index[token] = RetryFingerprint;
            }

            return index;
        }

        /// <summary>The previous index with what this apply did before it was stopped; tokens it did not reach keep their old state.</summary>
        public ShardedIndex PartialIndex(TokenPlan plan)
        {
            var index = new ShardedIndex(plan.PreviousIndex);
            foreach (var token in _written)
            {
                index[token] = plan.NewIndex[token];
            }

            foreach (var token in _removed)
            {
                index.Remove(token);
            }

            foreach (var token in _failed)
            {
                index[token] = RetryFingerprint;
            }

            return index;
        }
    }
}
