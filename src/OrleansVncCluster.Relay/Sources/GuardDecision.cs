namespace OrleansVncCluster.Relay.Sources;

/// <summary>What the guard decided about a plan.</summary>
public enum GuardDecision
{
    /// <summary>An ordinary plan: apply it.</summary>
    Apply,

    /// <summary>Too many removals, seen for the first time: keep every token and wait for the next answer.</summary>
    Hold,

    /// <summary>Too many removals, but the source gave exactly the same answer twice in a row: apply it.</summary>
    ApplyConfirmed,
}
