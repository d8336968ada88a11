namespace OrleansVncCluster.Relay.Tokens;

/// <summary>How a token lookup went.</summary>
public enum LookupStatus
{
    /// <summary>The token exists.</summary>
    Found,

    /// <summary>No such token.</summary>
    Unknown,

    /// <summary>The token grain did not answer in time and nothing was cached.</summary>
    Unavailable,
}
