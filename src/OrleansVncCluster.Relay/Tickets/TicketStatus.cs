namespace OrleansVncCluster.Relay.Tickets;

/// <summary>Why a presented ticket was not accepted.</summary>
public enum TicketStatus
{
    /// <summary>Signature good, not expired.</summary>
    Valid,

    /// <summary>Not shaped like a ticket of this version.</summary>
    Malformed,

    /// <summary>Signed with a key id this relay does not know (another cluster's secret, or a retired one).</summary>
    UnknownKey,

    /// <summary>The MAC does not match: altered, or forged.</summary>
    BadSignature,

    /// <summary>Past its expiry.</summary>
    Expired,
}
