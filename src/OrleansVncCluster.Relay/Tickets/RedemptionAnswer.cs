namespace OrleansVncCluster.Relay.Tickets;

/// <summary>What the redemption grain says to one use of a single-use ticket.</summary>
[GenerateSerializer, Alias("vnc.RedemptionAnswer")]
public enum RedemptionAnswer
{
    /// <summary>This use is the ticket's one use.</summary>
    Redeemed,

    /// <summary>The ticket was used before.</summary>
    AlreadyUsed,

    /// <summary>The grain's own clock says the ticket has expired, whatever the asking node's clock said.</summary>
    Expired,
}
