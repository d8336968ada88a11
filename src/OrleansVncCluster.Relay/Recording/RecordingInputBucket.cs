namespace OrleansVncCluster.Relay.Recording;

/// <summary>A span of a recording's seek bar that holds input: it starts at <paramref name="AtMs"/> and holds
/// <paramref name="Count"/> input records (keys, pointer, clipboard).</summary>
public readonly record struct RecordingInputBucket(uint AtMs, int Count);
