namespace OrleansVncCluster.Relay.Admission;

/// <summary>The metric reasons (vnc_relay_sessions_failed_total{reason}) of the limits' refusals.</summary>
public static class LimitReasons
{
    public const string HandshakeRate = "handshake_rate";
    public const string FailedTokenRate = "failed_token_rate";
    public const string ClientSessions = "client_sessions";
    public const string TokenSessions = "token_sessions";
    public const string TargetNotAllowed = "target_not_allowed";
    public const string TargetOwnEndpoint = "target_own_endpoint";
    public const string TargetUnresolved = "target_unresolved";
    public const string TargetReserved = "target_reserved";
}
