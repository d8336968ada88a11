namespace OrleansVncCluster.Relay.Recording;

/// <summary>One record read from a recording. <see cref="Payload"/> is the reader's buffer: valid until its next read.</summary>
public readonly record struct RecordingRecord(RecordingRecordKind Kind, uint TimeMs, long Offset, int PayloadLength, ReadOnlyMemory<byte> Payload);
