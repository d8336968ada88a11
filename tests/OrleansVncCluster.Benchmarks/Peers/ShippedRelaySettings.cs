namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>
/// Settings of the node as the repository ships it to operators (deploy/env/vnc-relay.env.example, which
/// deploy/install.sh installs as /etc/vnc-relay/vnc-relay.env; k8s/relay.yaml sets the same), for a workload that
/// measures what those settings change: the cold node measures a node's start, so it starts with the shipped start-up
/// rehearsal rather than with the code's default (none, so that tests and the other workloads' nodes start at once).
/// </summary>
internal static class ShippedRelaySettings
{
    public const string EnvironmentFile = "deploy/env/vnc-relay.env.example";

    /// <summary>The shipped file's settings among <paramref name="names"/> (NAME=VALUE lines, comments skipped).</summary>
    public static Dictionary<string, string> Read(params string[] names)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(EnvironmentFile))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith('#') || trimmed.IndexOf('=', StringComparison.Ordinal) is not (> 0 and var equals))
            {
                continue;
            }

            if (names.Contains(trimmed[..equals], StringComparer.Ordinal))
            {
                settings[trimmed[..equals]] = trimmed[(equals + 1)..];
            }
        }

        return settings;
    }
}
