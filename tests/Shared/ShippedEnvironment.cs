namespace OrleansVncCluster.Testing;

/// <summary>
/// The node's settings as the repository ships them to operators: deploy/env/vnc-relay.env.example, which
/// deploy/install.sh installs as /etc/vnc-relay/vnc-relay.env (k8s/relay.yaml sets the same). For the bench's cold node
/// and the tests that start a node as shipped.
/// </summary>
public static class ShippedEnvironment
{
    /// <summary>The file, relative to the repository's root.</summary>
    public const string RelativePath = "deploy/env/vnc-relay.env.example";

    /// <summary>Its NAME=VALUE lines (blank lines and comments skipped), read under <paramref name="repositoryRoot"/>.</summary>
    public static Dictionary<string, string> Read(string repositoryRoot)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(repositoryRoot, RelativePath)))
        {
            var trimmed = line.Trim();
            if (!trimmed.StartsWith('#') && trimmed.IndexOf('=', StringComparison.Ordinal) is > 0 and var equals)
            {
                settings[trimmed[..equals]] = trimmed[(equals + 1)..];
            }
        }

        return settings;
    }
}
