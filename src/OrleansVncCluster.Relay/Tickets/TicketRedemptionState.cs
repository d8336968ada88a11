
namespace OrleansVncCluster.Relay.Tickets;

/// <summary>The persisted state of a redemption.</summary>
[GenerateSerializer, Alias("vnc.TicketRedemptionState")]
public sealed class TicketRedemptionState
{
    /// <summary>When the ticket was redeemed, null before.</summary>
    [Id(0)] public DateTimeOffset? RedeemedAt { get; set; }

    /// <summary>The ticket's expiry: after it the record serves nothing (the ticket is refused as expired anyway).</summary>
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The attempt that redeemed it: only that attempt may give the redemption back.</summary>
    [Id(2)] public string? Attempt { get; set; }
}
