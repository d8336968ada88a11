using System.Net.WebSockets;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Close codes and reasons a user can read: noVNC shows "Connection closed (code: X, reason: Y)". websockify drops the
/// TCP connection for a bad token, which the browser reports as a reasonless 1006; every case here names its cause.
/// 4xxx codes are the private-use range of RFC 6455 section 7.4.2, shaped after HTTP statuses so they read naturally.
/// Reasons stay under the 123-byte limit of a close frame.
/// </summary>
public static class CloseReasons
{
    public const WebSocketCloseStatus TargetClosed = WebSocketCloseStatus.NormalClosure;               // 1000
    public const WebSocketCloseStatus Draining = WebSocketCloseStatus.EndpointUnavailable;             // 1001
    public const WebSocketCloseStatus TextFrame = WebSocketCloseStatus.InvalidMessageType;             // 1003
    public const WebSocketCloseStatus TooBig = WebSocketCloseStatus.MessageTooBig;                     // 1009
    public const WebSocketCloseStatus TargetFailed = WebSocketCloseStatus.InternalServerError;         // 1011
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;
    public const WebSocketCloseStatus BadToken = (WebSocketCloseStatus)4400;
    public const WebSocketCloseStatus Forbidden = (WebSocketCloseStatus)4403;
    public const WebSocketCloseStatus UnknownToken = (WebSocketCloseStatus)4404;
    public const WebSocketCloseStatus Idle = (WebSocketCloseStatus)4408;
    public const WebSocketCloseStatus Revoked = (WebSocketCloseStatus)4410;
    public const WebSocketCloseStatus TooMany = (WebSocketCloseStatus)4429;
    public const WebSocketCloseStatus TicketBadSignature = (WebSocketCloseStatus)4401;                 // 401 Unauthorized
    public const WebSocketCloseStatus TicketUsed = (WebSocketCloseStatus)4409;                         // 409 Conflict
    public const WebSocketCloseStatus TicketOtherVm = (WebSocketCloseStatus)4412;                      // 412 Precondition Failed
    public const WebSocketCloseStatus TicketExpired = (WebSocketCloseStatus)4419;                      // 419 "Page Expired"
    public const WebSocketCloseStatus TicketUnknownKey = (WebSocketCloseStatus)4421;                   // 421 Misdirected
    public const WebSocketCloseStatus PlainTokenRefused = (WebSocketCloseStatus)4426;                  // 426 Upgrade Required
    public const WebSocketCloseStatus VncLoginFailed = (WebSocketCloseStatus)4502;                     // 502 Bad Gateway
    public const WebSocketCloseStatus RecordingUnavailable = (WebSocketCloseStatus)4451;               // 451: policy forbids it unrecorded
    public const WebSocketCloseStatus RfbViolation = WebSocketCloseStatus.ProtocolError;               // 1002

    public const string TargetClosedText = "console target closed the connection";
    public const string MissingTokenText = "missing console token: connect to /websockify?token=TOKEN";
    public const string MalformedTokenText = "malformed console token";
    public const string UnknownTokenText = "unknown console token";
    public const string RevokedText = "console revoked";
    public const string TargetChangedText = "console revoked: the VM's console moved";
    public const string RevokedByOperatorText = "console revoked by an operator";
    public const string TextFrameText = "text frames are not supported: send binary frames";
    public const string IdleText = "console closed after being idle too long";
    public const string DrainingText = "relay node is draining: reconnect";
    public const string TokenStoreUnavailableText = "token store unavailable: try again shortly";
    public const string NodeFullText = "relay node is full: try again shortly";
    public const string TargetLostText = "connection to the console target was lost";
    public const string TicketExpiredText = "console ticket expired: ask the portal for a new console link";
    public const string TicketBadSignatureText = "console ticket signature is not valid: the link was altered";
    public const string TicketUnknownKeyText = "console ticket signed with an unknown or retired key";
    public const string TicketsOffText = "console tickets are not enabled on this relay";
    public const string TicketUsedText = "console ticket already used: it opens one console only";
    public const string TicketMalformedText = "malformed console ticket";
    public const string PlaybackTicketText = "this is a playback ticket: it opens a recording in /console/playback, not a console";
    public const string TicketOtherVmText = "console ticket is for another VM: this console address now belongs to a different VM";
    public const string TicketV1RefusedText = "console ticket of the old vt1 format is no longer accepted: ask the portal for a new link";
    public const string ResumeExpiredText = "console resume expired: open the console again from the portal";
    public const string ResumeClosedByAdministratorText = "console closed by an administrator: open the console again from the portal";
    public const string ResumeOffText = "resuming a console is not enabled on this relay: open the console again from the portal";
    public const string TicketCheckUnavailableText = "console ticket check unavailable: try again shortly";
    public const string RecordingUnavailableText = "this console must be recorded and the relay cannot record it";
    public const string RfbViolationText = "the browser sent an RFB message the relay does not know";
    public const string PlainTokenRefusedText = "plain console tokens are turned off: open the console with a ticket";

    // Limits (Admission/): 4429 for every "too many", 4403 for a target outside the allow-list.
    public const string ClientSessionsText = "too many consoles open from your address: close one and try again";
    public const string TokenSessionsText = "too many consoles open for this VM: close one and try again";
    public const string HandshakeRateText = "too many connection attempts from your address";
    public const string FailedTokenRateText = "too many invalid console tokens from your address";
    public const string TargetNotAllowedText = "console target address is not allowed by this relay";
    public const string TargetUnresolvedText = "console target host name did not resolve";
    public const string TargetReservedText = "console target address is not allowed by this relay: reserved (link-local, multicast or unspecified)";
    public const string TargetOwnEndpointText = "console target address is not allowed by this relay: own endpoint of the cluster";
}
