namespace OrleansVncCluster.Relay.Recording;

/// <summary>A place playback can start: the record at <paramref name="Offset"/> (from the file's start) begins a full-screen
/// FramebufferUpdate recorded at <paramref name="TimeMs"/>.</summary>
public readonly record struct RecordingKeyframe(uint TimeMs, long Offset);
