using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// Settings of the node as the repository ships it to operators (deploy/env/vnc-relay.env.example, which
/// deploy/install.sh installs as /etc/vnc-relay/vnc-relay.env; k8s/relay.yaml sets the same), for a workload that
/// measures what those settings change: the cold node measures a node's start, so it starts with the shipped start-up
/// rehearsal rather than with the code's default (none, so that tests and the other workloads' nodes start at once).
/// </summary>
internal static class ShippedRelaySettings
{
    public const string EnvironmentFile = ShippedEnvironment.RelativePath;

    /// <summary>The shipped file's settings among <paramref name="names"/> (the bench runs from the repository's root).</summary>
    public static Dictionary<string, string> Read(params string[] names) =>
        ShippedEnvironment.Read(".").Where(setting => names.Contains(setting.Key, StringComparer.Ordinal)).ToDictionary(StringComparer.Ordinal);
}
