using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The changes that would make the token grains hold exactly what a source now says.</summary>
public sealed record TokenPlan(
    string Source,
    IReadOnlyDictionary<string, ConsoleTokenEntry> Upserts,
    IReadOnlyList<string> Removals,
    int Unchanged,
    int PreviousCount,
    Dictionary<string, string> NewIndex);

/// <summary>What applying a plan did.</summary>
public sealed record TokenApplyResult(int Written, int Removed, int Unchanged, int Failed);

/// <summary>
/// Writes a source's desired token set into the token grains, touching only what changed. Sources (token files, the
/// Abiquo sync, the admin API) describe the whole table they want; this turns that into per-token writes and deletes,
/// so running it twice, or on two nodes at once, ends in the same state.
/// </summary>
public sealed class TokenTable(IGrainFactory grains)
{
    /// <summary>Parallel grain calls while applying; enough to hide Redis latency without flooding the silo.</summary>
    private const int ApplyParallelism = 64;

    /// <summary>Compares <paramref name="desired"/> with what <paramref name="source"/> last wrote.</summary>
    public async Task<TokenPlan> PlanAsync(string source, IReadOnlyDictionary<string, ConsoleTokenEntry> desired)
    {
        var current = await grains.GetGrain<ITokenIndexGrain>(source).GetAsync();
        var upserts = new Dictionary<string, ConsoleTokenEntry>(StringComparer.Ordinal);
        var index = new Dictionary<string, string>(desired.Count, StringComparer.Ordinal);
        var unchanged = 0;
        foreach (var (token, entry) in desired)
        {
            var fingerprint = Fingerprint(entry);
            index[token] = fingerprint;
            if (current.TryGetValue(token, out var old) && old == fingerprint)
            {
                unchanged++;
            }
            else
            {
                upserts[token] = entry;
            }
        }

        var removals = current.Keys.Where(token => !desired.ContainsKey(token)).ToList();
        return new TokenPlan(source, upserts, removals, unchanged, current.Count, index);
    }

    /// <summary>Applies a plan. Failed writes are left out of the index so the next run retries them.</summary>
    public async Task<TokenApplyResult> ApplyAsync(TokenPlan plan, CancellationToken cancellationToken)
    {
        var writeFailures = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = ApplyParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(plan.Upserts, options, async (pair, _) =>
        {
            try
            {
                await grains.GetGrain<ITokenGrain>(pair.Key).SetAsync(pair.Value);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref writeFailures);
                lock (plan.NewIndex)
                {
                    plan.NewIndex.Remove(pair.Key);
                }
            }
        });

        var removeFailures = new List<string>();
        await Parallel.ForEachAsync(plan.Removals, options, async (token, _) =>
        {
            try
            {
                await grains.GetGrain<ITokenGrain>(token).RemoveAsync(plan.Source);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                lock (removeFailures)
                {
                    removeFailures.Add(token);
                }
            }
        });

        // A token whose delete failed stays in the index (with an impossible fingerprint) so the next run deletes it.
        foreach (var token in removeFailures)
        {
            plan.NewIndex[token] = "";
        }

        await grains.GetGrain<ITokenIndexGrain>(plan.Source).SetAsync(plan.NewIndex);
        return new TokenApplyResult(plan.Upserts.Count - writeFailures, plan.Removals.Count - removeFailures.Count, plan.Unchanged, writeFailures + removeFailures.Count);
    }

    /// <summary>Plans and applies in one step.</summary>
    public async Task<TokenApplyResult> ReplaceSourceAsync(string source, IReadOnlyDictionary<string, ConsoleTokenEntry> desired, CancellationToken cancellationToken) =>
        await ApplyAsync(await PlanAsync(source, desired), cancellationToken);

    /// <summary>A short, stable digest of everything in an entry except when it was written.</summary>
    public static string Fingerprint(ConsoleTokenEntry entry)
    {
        var text = string.Join('\u001f', entry.Target.Host, entry.Target.Port, entry.Target.UnixSocket, entry.Vm?.Id, entry.Vm?.Name,
            entry.Vm?.Label, entry.Vm?.Enterprise, entry.Vm?.Hypervisor, entry.Password, entry.Source);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToBase64String(hash[..12]);
    }
}
