namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Carries a handshake failure from deep in the exchange to the one place that turns it into a result value;
/// it never leaves this folder.</summary>
internal sealed class RfbFailureException(RfbFailureKind kind, string reason) : Exception(reason)
{
    public RfbFailureKind Kind { get; } = kind;
}
