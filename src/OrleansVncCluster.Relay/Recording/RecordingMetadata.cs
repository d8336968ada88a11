using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The payload of a recording's <see cref="RecordingRecordKind.Metadata"/> record (docs/RECORDING.md). The JSON names
/// are the format: only ever add.</summary>
public sealed record RecordingMetadata
{
    /// <summary>The recording id (the file's name without its extension).</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The session id.</summary>
    [JsonPropertyName("sessionId")]
    public required string SessionId { get; init; }

    /// <summary>The VM's id.</summary>
    [JsonPropertyName("vmId")]
    public string? VmId { get; init; }

    /// <summary>The VM's name.</summary>
    [JsonPropertyName("vmName")]
    public string? VmName { get; init; }

    /// <summary>The VM's enterprise.</summary>
    [JsonPropertyName("enterprise")]
    public string? Enterprise { get; init; }

    /// <summary>Who the ticket was issued for.</summary>
    [JsonPropertyName("user")]
    public string? User { get; init; }

    /// <summary>The client address.</summary>
    [JsonPropertyName("client")]
    public required string Client { get; init; }

    /// <summary>The node (silo name) that wrote it.</summary>
    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>When the recording started (UTC).</summary>
    [JsonPropertyName("start")]
    public DateTimeOffset Start { get; init; }

    /// <summary>True when key records carry their keysym (Recording:IncludeKeyValues).</summary>
    [JsonPropertyName("keyValues")]
    public bool KeyValues { get; init; }
}
