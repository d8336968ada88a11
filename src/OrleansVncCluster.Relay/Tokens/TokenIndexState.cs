namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The persisted state of a token index grain.</summary>
[GenerateSerializer, Alias("vnc.TokenIndexState")]
public sealed class TokenIndexState
{
    /// <summary>Token to fingerprint.</summary>
    [Id(0)] public Dictionary<string, string> Fingerprints { get; set; } = new(StringComparer.Ordinal);

    /// <summary>VM id to token, for the tokens whose entry names a VM (Abiquo): how a ticket is asked for by VM.</summary>
    [Id(1)] public Dictionary<string, string> Vms { get; set; } = new(StringComparer.Ordinal);
}
