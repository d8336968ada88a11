namespace OrleansVncCluster.Relay.Tickets;

/// <summary>What a verified playback ticket grants: watching <paramref name="RecordingId"/> until
/// <paramref name="ExpiresAt"/>; <paramref name="Viewer"/> is who the administrator issued it for, for the log.</summary>
public sealed record PlaybackGrant(string RecordingId, string? Viewer, DateTimeOffset ExpiresAt);
