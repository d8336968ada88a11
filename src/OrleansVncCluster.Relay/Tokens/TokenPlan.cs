namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The changes that would make the token grains hold exactly what a source now says.</summary>
public sealed record TokenPlan(
    string Source,
    IReadOnlyDictionary<string, ConsoleTokenEntry> Upserts,
    IReadOnlyList<string> Removals,
    int Unchanged,
    int PreviousCount,
    ShardedIndex NewIndex)
{
    /// <summary>The index the plan was made against: what an interrupted apply falls back to for tokens it did not reach.</summary>
    public ShardedIndex PreviousIndex { get; init; } = new();

    /// <summary>VM id to token for the desired entries that name a VM: the source's VM index after the apply.</summary>
    public ShardedIndex NewVms { get; init; } = new();
}
