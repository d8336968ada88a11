namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Decides, from its header alone, what happens to each browser-to-server message. Called once per message on
/// the relay's hot path: it must not block or allocate.</summary>
public interface IRfbClientMessagePolicy
{
    /// <summary>The verdict for <paramref name="message"/>.</summary>
    RfbMessageVerdict Decide(in RfbClientMessage message);
}
