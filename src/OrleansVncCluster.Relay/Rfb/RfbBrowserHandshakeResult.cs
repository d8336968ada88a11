using System.Diagnostics.CodeAnalysis;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The outcome of the relay's server-side handshake with the browser.</summary>
public sealed class RfbBrowserHandshakeResult
{
    private RfbBrowserHandshakeResult(RfbVersion? version, bool sharedFlag, RfbFailureKind? failure, string? reason)
    {
        Version = version;
        BrowserAskedShared = sharedFlag;
        Failure = failure;
        Reason = reason;
    }

    /// <summary>True when the browser received ServerInit and the session may start relaying.</summary>
    [MemberNotNullWhen(false, nameof(Failure), nameof(Reason))]
    public bool Succeeded => Failure is null;

    /// <summary>The version the browser chose, once it did.</summary>
    public RfbVersion? Version { get; }

    /// <summary>The browser's ClientInit shared flag; reported only, since the relay decides sharing towards the server.</summary>
    public bool BrowserAskedShared { get; }

    /// <summary>What went wrong, when it did.</summary>
    public RfbFailureKind? Failure { get; }

    /// <summary>A readable reason, when it went wrong.</summary>
    public string? Reason { get; }

    internal static RfbBrowserHandshakeResult Success(RfbVersion version, bool shared) => new(version, shared, null, null);

    internal static RfbBrowserHandshakeResult Failed(RfbVersion? version, RfbFailureKind failure, string reason) => new(version, false, failure, reason);
}
