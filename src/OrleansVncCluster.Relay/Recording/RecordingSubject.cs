namespace OrleansVncCluster.Relay.Recording;

/// <summary>What a recording is of: the session and who and what it connected, as the session's owner knows them.</summary>
public sealed record RecordingSubject
{
    /// <summary>The session id (the history record's id).</summary>
    public required string SessionId { get; init; }

    /// <summary>The VM's id, when the token source knows it.</summary>
    public string? VmId { get; init; }

    /// <summary>The VM's name (its label when it has one).</summary>
    public string? VmName { get; init; }

    /// <summary>The VM's enterprise, when the token source knows it.</summary>
    public string? Enterprise { get; init; }

    /// <summary>Who the ticket was issued for; null without one.</summary>
    public string? User { get; init; }

    /// <summary>The client address.</summary>
    public required string Client { get; init; }
}
