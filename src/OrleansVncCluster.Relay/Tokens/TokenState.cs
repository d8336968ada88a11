namespace OrleansVncCluster.Relay.Tokens;

/// <summary>The persisted state of a token grain.</summary>
[GenerateSerializer, Alias("vnc.TokenState")]
public sealed class TokenState
{
    /// <summary>The entry, or null when the token does not exist.</summary>
    [Id(0)] public ConsoleTokenEntry? Entry { get; set; }
}
