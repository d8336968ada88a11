namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// The grain storage provider of single-use ticket redemptions: Redis keys that expire on their own
/// (<see cref="RecordLifetime"/> after their write), so a record whose grain died before its clean-up timer fired does
/// not stay in Redis for ever; memory in the embedded mode.
/// </summary>
public static class TicketStorage
{
    /// <summary>Provider name.</summary>
    public const string Name = "tickets";

    /// <summary>
    /// How long a redemption record lives in Redis after it is written: longer than any ticket (Tickets:MaxTtl is at most
    /// one hour) plus the grain's clock-skew margin. Records live the whole time in one provider-wide expiry (Orleans'
    /// RedisStorageOptions.EntryExpiry), which suits a record written once and never updated; Orleans warns that expiry
    /// can duplicate activations, which here only matters once the ticket has expired, and the grain then refuses on its
    /// own clock whatever storage says.
    /// </summary>
    public static readonly TimeSpan RecordLifetime = TimeSpan.FromMinutes(65);
}
