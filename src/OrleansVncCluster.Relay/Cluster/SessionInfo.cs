namespace OrleansVncCluster.Relay.Cluster;

/// <summary>A live session as the admin API shows it (no token beyond its log prefix, no password).</summary>
[GenerateSerializer, Immutable, Alias("vnc.SessionInfo")]
public sealed record SessionInfo
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Node { get; init; }
    [Id(2)] public required string TokenPrefix { get; init; }
    [Id(3)] public string? Vm { get; init; }
    [Id(4)] public required string Target { get; init; }
    [Id(5)] public required string Client { get; init; }
    [Id(6)] public DateTimeOffset StartedAt { get; init; }
    [Id(7)] public long BytesToTarget { get; init; }
    [Id(8)] public long BytesToClient { get; init; }

    /// <summary>"control", or "view" for a session opened with a view ticket (its input is dropped).</summary>
    [Id(9)] public string Role { get; init; } = "control";
}
