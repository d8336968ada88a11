using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// A relay node's sessions to password-protected RFB targets (the relay-side login workload, issue 13 item 8). Two
/// views of the same node: "relay (rfb)" uses tokens without a known password, so the node is a pass-through and the
/// client answers the VNC challenge itself through it; "relay (login)" uses tokens whose password the node knows
/// (Tokens:PasswordFiles), so the node logs in and offers the client None. Same node, same server, same end state
/// (the client has ServerInit): the difference is the login's cost.
/// </summary>
internal sealed class RfbRelayPeer(RelayPeer relay, string name, TargetSet targets, string tokenPrefix, string password) : Peer
{
    public const string PassThroughName = "relay (rfb)";
    public const string LoginName = "relay (login)";

    /// <summary>A second node that records every session (Recording:Mode=on), logging in like "relay (login)": the
    /// recording's cost against that view (issue 14).</summary>
    public const string RecordedName = "relay (recorded)";
    public const string PassThroughPrefix = "rfb-";
    public const string LoginPrefix = "rfb-login-";

    public override string Name => name;

    /// <summary>The password-protected targets these sessions reach.</summary>
    public TargetSet Targets => targets;

    public override IBenchEndpoint Endpoint { get; } = new RfbEndpoint(relay.Endpoint, tokenPrefix, password, relayLogsIn: tokenPrefix == LoginPrefix);

    public override int? DescriptorsPerSession => 2;

    public override IReadOnlyList<PeerProcess> Processes => relay.Processes;

    /// <summary>The node belongs to whoever started it.</summary>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
