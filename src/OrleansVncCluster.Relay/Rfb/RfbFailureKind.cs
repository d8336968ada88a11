namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Why an RFB handshake or the browser-to-server message stream ended; the reason text says more.</summary>
public enum RfbFailureKind
{
    /// <summary>The peer does not speak RFB (its first 12 bytes are not a ProtocolVersion).</summary>
    NotRfb,

    /// <summary>The peer speaks an RFB version the relay does not.</summary>
    UnsupportedVersion,

    /// <summary>The VNC server refused the connection, with its reason when it gave one.</summary>
    Refused,

    /// <summary>No offered security type (or VeNCrypt subtype) is one the relay can use with its configuration.</summary>
    NoAcceptableSecurity,

    /// <summary>Targets:RequireTls is set and the VNC server offers no TLS.</summary>
    TlsRequired,

    /// <summary>The TLS handshake failed or the server's certificate was not accepted.</summary>
    TlsFailed,

    /// <summary>The VNC server asks for a password and none is known for this console.</summary>
    PasswordRequired,

    /// <summary>The VNC server refused the password.</summary>
    AuthenticationFailed,

    /// <summary>The peer broke the protocol: a length out of bounds, a type it was not offered, an unknown message.</summary>
    ProtocolViolation,

    /// <summary>The peer closed the connection before the handshake ended.</summary>
    Closed,

    /// <summary>The transport failed (reset, broken pipe).</summary>
    TransportError,

    /// <summary>The handshake did not end within its deadline.</summary>
    Timeout,

    /// <summary>The caller cancelled the handshake.</summary>
    Cancelled,
}
