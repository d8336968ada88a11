
namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The single use of one single-use ticket, keyed by the ticket's nonce. One activation in the cluster serialises
/// concurrent redemptions; the redemption is persisted in the ticket storage (Redis in a cluster, keys that expire by
/// themselves), so the silo holding it may die and the next activation, on another silo, still says "already used".
/// </summary>
[Alias("vnc.ITicketRedemptionGrain")]
public interface ITicketRedemptionGrain : IGrainWithStringKey
{
    /// <summary>True the first time, false ever after, and false once expired (kept for nodes of the previous version).</summary>
    [Alias("Redeem")]
    Task<bool> RedeemAsync(DateTimeOffset expiresAt);

    /// <summary>
    /// Redeems the ticket for one attempt to open a session (<paramref name="attempt"/>, random per attempt), after
    /// checking its expiry on this grain's clock. Throws when the record cannot be written; the ticket then stays unused.
    /// </summary>
    [Alias("TryRedeem")]
    Task<RedemptionAnswer> TryRedeemAsync(DateTimeOffset expiresAt, string attempt);

    /// <summary>
    /// Undoes the redemption of <paramref name="attempt"/> when that attempt never relayed (the VM did not answer): the
    /// ticket is usable again until it expires. False when the ticket is not redeemed by that attempt.
    /// </summary>
    [Alias("GiveBack")]
    Task<bool> GiveBackAsync(string attempt);
}
