using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>Builds each session's <see cref="SessionPolicy"/> from the cluster's clipboard settings (Vnc:Clipboard,
/// Vnc:MaxClipboardBytes) and the session's ticket, which can only narrow them. One per node.</summary>
public sealed class SessionPolicies(IOptionsMonitor<VncOptions> options, RelayMetrics metrics, ILogger<SessionPolicy> logger)
{
    /// <summary>The policy of <paramref name="session"/>, whose ticket allows <paramref name="ticket"/> (both without one),
    /// recorded by <paramref name="recorder"/> when it is recorded.</summary>
    public SessionPolicy For(RelaySession session, ClipboardDirections ticket, SessionRecorder? recorder = null)
    {
        var settings = options.CurrentValue;
        return new SessionPolicy(session, settings.ClipboardDirections & ticket, settings.MaxClipboardBytes, metrics, logger, recorder);
    }
}
