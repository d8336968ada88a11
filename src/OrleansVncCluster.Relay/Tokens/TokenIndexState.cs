namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The persisted state of a token index grain.</summary>
[GenerateSerializer, Alias("vnc.TokenIndexState")]
public sealed class TokenIndexState
{
    /// <summary>Token to fingerprint.</summary>
    [Id(0)] public Dictionary<string, string> Fingerprints { get; set; } = new(StringComparer.Ordinal);
}
