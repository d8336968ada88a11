using System.Text.Json;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The few facts of a recording's Metadata record that the playback page shows: the VM's name, the user and when
/// the session started. Nothing else of the metadata (addresses, ids, the node) leaves the node.</summary>
public sealed record RecordingSummary(string? VmName, string? User, DateTimeOffset? StartedAt)
{
    /// <summary>A recording whose metadata cannot be read.</summary>
    public static RecordingSummary Unknown { get; } = new(null, null, null);

    /// <summary>Reads the Metadata record's JSON (<see cref="RecordingMetadata"/>, the recorder's shape); a record that is
    /// not one gives <see cref="Unknown"/>.</summary>
    public static RecordingSummary Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, RecordingJsonContext.Default.RecordingMetadata) is { } metadata
                ? new RecordingSummary(metadata.VmName, metadata.User, metadata.Start)
                : Unknown;
        }
        catch (JsonException)
        {
            return Unknown;
        }
    }
}
