namespace OrleansVncCluster.Relay.Sources;

/// <summary>One source's part of the last sync.</summary>
[GenerateSerializer, Immutable, Alias("vnc.SourceSyncStatus")]
public sealed record SourceSyncStatus
{
    [Id(0)] public required string Name { get; init; }

    /// <summary>Tokens the source owns in the table after the last sync.</summary>
    [Id(1)] public int Tokens { get; init; }

    /// <summary>Tokens written (new or changed) by the last applied sync.</summary>
    [Id(2)] public int Written { get; init; }

    /// <summary>Tokens removed by the last applied sync.</summary>
    [Id(3)] public int Removed { get; init; }

    /// <summary>Tokens the last applied sync found already right.</summary>
    [Id(4)] public int Unchanged { get; init; }

    /// <summary>Token writes or removals that failed (retried next time).</summary>
    [Id(5)] public int Failed { get; init; }

    [Id(6)] public DateTimeOffset? LastSuccessAt { get; init; }

    [Id(7)] public string? LastError { get; init; }

    /// <summary>Removals held by the mass-removal guard, waiting for the same answer again; null when nothing is held.</summary>
    [Id(8)] public int? HeldRemovals { get; init; }

    /// <summary>
    /// Where the last sync of this source that got as far as applying spent its time: reading the source (and the index
    /// beside it), planning the changes, applying them. A sync's cost to session set-up differs by part (the load
    /// allocates what it keeps, the apply is paced), so an operator or the bench can tell which part a slow second fell in.
    /// </summary>
    [Id(9)] public TimeSpan? LastLoad { get; init; }

    /// <inheritdoc cref="LastLoad"/>
    [Id(10)] public TimeSpan? LastPlan { get; init; }

    /// <inheritdoc cref="LastLoad"/>
    [Id(11)] public TimeSpan? LastApply { get; init; }
}
