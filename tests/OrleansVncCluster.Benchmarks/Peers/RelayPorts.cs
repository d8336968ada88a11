using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// The ports of one node of a bench cluster, chosen once: a node killed with SIGKILL comes back on the same ones, where
/// HAProxy's server line and its cluster expect it.
/// </summary>
/// <param name="Agent">The HAProxy agent port; 0 = no agent (a lone node, where 8081 would collide with other nodes).</param>
internal sealed record RelayPorts(int Relay, int Admin, int Silo, int Gateway, int Agent)
{
    /// <summary>Fresh free ports for a node that answers HAProxy's agent check.</summary>
    public static RelayPorts Free() => new(Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free(), Ports.Free());
}
