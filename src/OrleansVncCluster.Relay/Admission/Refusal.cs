using System.Net.WebSockets;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// A session refused before it relays anything: the close code and readable reason the client gets, and the
/// <c>vnc_relay_sessions_failed_total</c> label that counts it. Every refusal (endpoint, tickets, limits) is one of these.
/// </summary>
public readonly record struct Refusal(WebSocketCloseStatus Status, string Reason, string Metric);
