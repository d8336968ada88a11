using System.Diagnostics.CodeAnalysis;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The outcome of <see cref="RfbTargetLogin.LoginAsync"/>: a logged-in connection ready for the browser, or
/// why not.</summary>
public sealed class RfbTargetLoginResult
{
    private RfbTargetLoginResult(Stream? stream, RfbServerInit? serverInit, RfbVersion version, string security, RfbFailureKind? failure, string? reason)
    {
        Stream = stream;
        ServerInit = serverInit;
        Version = version;
        Security = security;
        Failure = failure;
        Reason = reason;
    }

    /// <summary>True when the server sent ServerInit; <see cref="Stream"/> and <see cref="ServerInit"/> are then set.</summary>
    [MemberNotNullWhen(true, nameof(Stream), nameof(ServerInit))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Reason))]
    public bool Succeeded => Failure is null;

    /// <summary>The stream to relay on from now on: the caller's stream, or the TLS stream over it when VeNCrypt chose a
    /// TLS subtype. Disposing it does not close the caller's stream, which the caller still owns.</summary>
    public Stream? Stream { get; }

    /// <summary>The server's ServerInit, to be sent to the browser as is.</summary>
    public RfbServerInit? ServerInit { get; }

    /// <summary>The protocol version agreed with the server.</summary>
    public RfbVersion Version { get; }

    /// <summary>The security used, for logs and /api: "None", "VncAuth", "VeNCrypt/X509Vnc", ...; empty before it was chosen.</summary>
    public string Security { get; }

    /// <summary>True when the session runs inside TLS.</summary>
    public bool Encrypted => Stream is System.Net.Security.SslStream;

    /// <summary>What went wrong, when it did.</summary>
    public RfbFailureKind? Failure { get; }

    /// <summary>A readable reason (never a password), when it went wrong.</summary>
    public string? Reason { get; }

    internal static RfbTargetLoginResult Success(Stream stream, RfbServerInit serverInit, RfbVersion version, string security) =>
        new(stream, serverInit, version, security, null, null);

    internal static RfbTargetLoginResult Failed(RfbFailureKind failure, string reason, RfbVersion version, string security) =>
        new(null, null, version, security, failure, reason);
}
