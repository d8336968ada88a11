using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>The VM a session was for, as far as its token's source knew it; every field null for a token-file console
/// without a VM identity.</summary>
public sealed record AuditVm
{
    /// <summary>The VM's id at its source (Abiquo's numeric id as text).</summary>
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    /// <summary>The name users see (Abiquo's label), or the internal name when the source has no label.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>The tenant that owns the VM.</summary>
    [JsonPropertyName("enterprise")]
    public string? Enterprise { get; init; }
}
