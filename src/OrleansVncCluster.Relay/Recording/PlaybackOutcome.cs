using System.Net.WebSockets;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>How a player connection ended: the close frame to send (<paramref name="Status"/>, <paramref name="Reason"/>)
/// and whether any of the recording was played.</summary>
public sealed record PlaybackOutcome(WebSocketCloseStatus Status, string Reason, bool Played);
