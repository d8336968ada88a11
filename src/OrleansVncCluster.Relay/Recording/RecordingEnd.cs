using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The payload of a recording's <see cref="RecordingRecordKind.End"/> record: how the session ended.</summary>
public sealed record RecordingEnd
{
    /// <summary>The WebSocket close code the session ended with.</summary>
    [JsonPropertyName("code")]
    public int Code { get; init; }

    /// <summary>The close reason.</summary>
    [JsonPropertyName("reason")]
    public string? Reason { get; init; }
}
