namespace OrleansVncCluster.Relay.Recording;

/// <summary>A place playback can start: the record at <paramref name="Offset"/> (from the file's start) begins a full-screen
/// FramebufferUpdate recorded at <paramref name="TimeMs"/>, of a screen <paramref name="Width"/> by
/// <paramref name="Height"/> pixels when the server had resized it since ServerInit (0 by 0: the ServerInit's size).</summary>
public readonly record struct RecordingKeyframe(uint TimeMs, long Offset, ushort Width = 0, ushort Height = 0);
