namespace OrleansVncCluster.Relay.Sources;

/// <summary>The old configuration keys of the sync's settings that this node's configuration still uses (see <see cref="SyncOptions.OldKeys"/>).</summary>
/// <param name="Found">Each old key found, with the new key to use instead.</param>
public sealed record SyncOldKeys(IReadOnlyList<(string Old, string New)> Found);
