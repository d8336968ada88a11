using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The JSON of recordings (their metadata and end records), source-generated.</summary>
[JsonSerializable(typeof(RecordingMetadata))]
[JsonSerializable(typeof(RecordingEnd))]
[JsonSerializable(typeof(RecordingEntry))]
[JsonSerializable(typeof(IReadOnlyList<RecordingEntry>))]
internal sealed partial class RecordingJsonContext : JsonSerializerContext;
