
namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The single use of one single-use ticket, keyed by the ticket's nonce. One activation in the cluster serialises
/// concurrent redemptions; the redemption is persisted in the token storage (Redis in a cluster), so the silo holding
/// it may die and the next activation, on another silo, still says "already used".
/// </summary>
[Alias("vnc.ITicketRedemptionGrain")]
public interface ITicketRedemptionGrain : IGrainWithStringKey
{
    /// <summary>True the first time, false ever after (until the record is dropped once the ticket expired).</summary>
    [Alias("Redeem")]
    Task<bool> RedeemAsync(DateTimeOffset expiresAt);
}
