namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Decides, from its header alone, what happens to each server-to-client message. Called once per message on
/// the relay's hot path: it must not block or allocate.</summary>
public interface IRfbServerMessagePolicy
{
    /// <summary>The verdict for <paramref name="message"/>. Every message is reported, so a caller can also note where
    /// messages start (a recording's keyframes); <see cref="RfbMessageVerdict.Drop"/> is honoured for every kind but
    /// FramebufferUpdate, whose length is not known at its header and which is always forwarded.</summary>
    RfbMessageVerdict Decide(in RfbServerMessage message);
}
