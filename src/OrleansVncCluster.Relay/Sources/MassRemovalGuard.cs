using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// Holds a plan that would remove more than a share of a source's tokens until the source gives the same token set
/// twice in a row. One bad answer (an empty list from a half-started API, a tenant missing from a broken page) then
/// costs nothing, while a real mass deletion lands one interval later.
/// </summary>
public sealed class MassRemovalGuard
{
    private readonly Dictionary<string, string> _held = new(StringComparer.Ordinal);

    /// <summary>Decides about <paramref name="plan"/>; <paramref name="maxRemovalShare"/> of the source's previous tokens may go at once.</summary>
    public GuardDecision Check(TokenPlan plan, double maxRemovalShare)
    {
        if (plan.PreviousCount == 0 || plan.Removals.Count <= maxRemovalShare * plan.PreviousCount)
        {
            _held.Remove(plan.Source);
            return GuardDecision.Apply;
        }

        var fingerprint = Fingerprint(plan.NewIndex);
        if (_held.TryGetValue(plan.Source, out var held) && held == fingerprint)
        {
            _held.Remove(plan.Source);
            return GuardDecision.ApplyConfirmed;
        }

        _held[plan.Source] = fingerprint;
        return GuardDecision.Hold;
    }

    /// <summary>The same token set with the same contents gives the same fingerprint.</summary>
    private static string Fingerprint(IReadOnlyDictionary<string, string> index)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (token, fingerprint) in index.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(token));
            hash.AppendData(Encoding.UTF8.GetBytes(fingerprint));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
