namespace OrleansVncCluster.Relay.Sessions;

/// <summary>Why a session ended: the first side to finish decides, and the outcome picks the close code.</summary>
public enum SessionOutcome
{
    /// <summary>The VNC server closed its side.</summary>
    TargetClosed,

    /// <summary>Reading from or writing to the VNC server failed.</summary>
    TargetFailed,

    /// <summary>The browser sent a close frame.</summary>
    ClientClosed,

    /// <summary>The browser's connection broke without a close frame.</summary>
    ClientFailed,

    /// <summary>The browser sent a text frame (RFB is binary).</summary>
    TextFrame,

    /// <summary>The browser sent a message over the size cap.</summary>
    TooBig,

    /// <summary>The browser sent an RFB message the relay cannot parse, in a session whose input it filters.</summary>
    RfbViolation,

    /// <summary>The session was ended from outside (revocation, drain, idle timeout, an operator).</summary>
    Stopped,
}
