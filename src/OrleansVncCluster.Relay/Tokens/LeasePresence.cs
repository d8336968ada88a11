namespace OrleansVncCluster.Relay.Tokens;

/// <summary>What a token's leases say about one session and the others of the same console.</summary>
/// <param name="Live">True while the asking session's lease is held (its node lives and it has not ended).</param>
/// <param name="Viewers">Live view sessions of the console other than the asking one.</param>
/// <param name="Sessions">Live sessions of the console, the asking one included.</param>
[GenerateSerializer, Immutable, Alias("vnc.LeasePresence")]
public readonly record struct LeasePresence([property: Id(0)] bool Live, [property: Id(1)] int Viewers, [property: Id(2)] int Sessions);
