using System.Text.Json.Serialization;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>One recording in the cluster-wide index (<c>GET /api/recordings</c>): what it is of, which node holds its
/// file, and whether it is whole. The JSON names are the API's and the stored form's: only ever add.</summary>
public sealed record RecordingEntry
{
    /// <summary>The recording id.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The session it recorded (the history record's id).</summary>
    [JsonPropertyName("sessionId")]
    public required string SessionId { get; init; }

    /// <summary>The VM, as the history names it.</summary>
    [JsonPropertyName("vm")]
    public required AuditVm Vm { get; init; }

    /// <summary>Who opened the session, when its ticket said so.</summary>
    [JsonPropertyName("user")]
    public string? User { get; init; }

    /// <summary>The client address.</summary>
    [JsonPropertyName("client")]
    public required string Client { get; init; }

    /// <summary>The node (silo name) that wrote it and holds its file.</summary>
    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>When the recording started.</summary>
    [JsonPropertyName("start")]
    public DateTimeOffset Start { get; init; }

    /// <summary>When it ended; null while it records, or when its node died with it.</summary>
    [JsonPropertyName("end")]
    public DateTimeOffset? End { get; init; }

    /// <summary>The file's size when the entry was last written.</summary>
    [JsonPropertyName("bytes")]
    public long Bytes { get; init; }

    /// <summary>The file's name on its node (in its Recording:Directory).</summary>
    [JsonPropertyName("file")]
    public required string File { get; init; }

    /// <summary>True once the recording ended with its End record; false while it records or when it was cut.</summary>
    [JsonPropertyName("complete")]
    public bool Complete { get; init; }

    /// <summary>True when its node died while it recorded: the file plays up to its last flush.</summary>
    [JsonPropertyName("cut")]
    public bool Cut { get; init; }

    /// <summary>True when the entry passes <paramref name="query"/>'s filters (VM id or name, user, client, start).</summary>
    public bool Matches(AuditQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Matches(Vm, User, Client, Start);
    }
}
