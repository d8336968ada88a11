using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>
/// One console session (a viewer is a session with role "view") in the history: written when it starts (no end), again
/// while it runs (its counters) and when it ends. The JSON names are the API's (<c>GET /api/history</c>) and the stored
/// form's: renaming one breaks stored records and the <c>vnc-relay history</c> client. Never a key value, a token or a
/// password: only counts.
/// </summary>
public sealed record AuditRecord
{
    /// <summary>The code a record gets when a survivor closes it for a node that died with it: 1006, the code a browser
    /// itself reports for a connection that ended without a close frame (RFC 6455 section 7.1.5).</summary>
    public const int NodeLostCode = 1006;

    /// <summary>The reason a record gets when a survivor closes it for a node that died with it.</summary>
    public const string NodeLostReason = "node lost";

    /// <summary>The session id (the one <c>DELETE /api/sessions/{id}</c> takes).</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The VM.</summary>
    [JsonPropertyName("vm")]
    public required AuditVm Vm { get; init; }

    /// <summary>Who opened it, when the ticket said so; null otherwise.</summary>
    [JsonPropertyName("user")]
    public string? User { get; init; }

    /// <summary>The client address (from X-Forwarded-For when the peer is a trusted proxy).</summary>
    [JsonPropertyName("client")]
    public required string Client { get; init; }

    /// <summary>The node (silo name) that carried it.</summary>
    [JsonPropertyName("node")]
    public required string Node { get; init; }

    /// <summary>When it started relaying.</summary>
    [JsonPropertyName("start")]
    public DateTimeOffset Start { get; init; }

    /// <summary>When it ended; null while it is open (or when its node crashed and no survivor has closed it yet).</summary>
    [JsonPropertyName("end")]
    public DateTimeOffset? End { get; init; }

    /// <summary>Bytes from the browser to the VNC server (after a view session's filter dropped its input).</summary>
    [JsonPropertyName("bytesToVm")]
    public long BytesToVm { get; init; }

    /// <summary>Bytes from the VNC server to the browser.</summary>
    [JsonPropertyName("bytesToBrowser")]
    public long BytesToBrowser { get; init; }

    /// <summary>"control" or "view".</summary>
    [JsonPropertyName("role")]
    public required string Role { get; init; }

    /// <summary>The WebSocket close code the session ended with; null while open.</summary>
    [JsonPropertyName("closeCode")]
    public int? CloseCode { get; init; }

    /// <summary>Why it ended, as the browser was told; null while open.</summary>
    [JsonPropertyName("closeReason")]
    public string? CloseReason { get; init; }

    /// <summary>Key events the browser sent (forwarded or dropped); 0 for a session whose input the relay does not parse.</summary>
    [JsonPropertyName("keyEvents")]
    public long KeyEvents { get; init; }

    /// <summary>Pointer events the browser sent (forwarded or dropped); 0 for a session whose input the relay does not parse.</summary>
    [JsonPropertyName("pointerEvents")]
    public long PointerEvents { get; init; }

    /// <summary>Clipboard bytes the browser sent (forwarded or dropped); 0 for a session whose input the relay does not parse.</summary>
    [JsonPropertyName("clipboardBytes")]
    public long ClipboardBytes { get; init; }

    /// <summary>The session's recording (<c>GET /api/recordings/{id}</c>); null when it was not recorded.</summary>
    [JsonPropertyName("recordingId")]
    public string? RecordingId { get; init; }

    /// <summary>True once the record has an end.</summary>
    [JsonIgnore]
    public bool IsClosed => End is not null;

    /// <summary>Whether this record passes the filters of <paramref name="query"/> (not its limit).</summary>
    public bool Matches(AuditQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Matches(Vm, User, Client, Start);
    }

    /// <summary>This record closed by a survivor for the node that died with it, at <paramref name="detectedAt"/>.</summary>
    public AuditRecord ClosedForLostNode(DateTimeOffset detectedAt) =>
        this with { End = detectedAt, CloseCode = NodeLostCode, CloseReason = NodeLostReason };
}
