using System.Text.Json.Serialization;

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

    /// <summary>Who the session's ticket was issued for (POST /api/tickets "user"), for audit; null without one.</summary>
    [Id(10)] public string? User { get; init; }

    /// <summary>The VM's id at its source (Abiquo), when the token's entry has one.</summary>
    [Id(11)] public string? VmId { get; init; }

    /// <summary>How many other live view sessions watch the same VM, cluster-wide (filled in by the admin API).</summary>
    [Id(12)] public int Viewers { get; init; }

    /// <summary>Which console the session shows (a digest of its VM, Tickets/TicketBinding): what the admin API groups
    /// viewers by. Not printed.</summary>
    [Id(13), JsonIgnore] public string? ConsoleKey { get; init; }

    /// <summary>
    /// Every session of <paramref name="sessions"/> with <see cref="Viewers"/> counted among them: the view sessions of
    /// the same console, the session itself not included.
    /// </summary>
    public static IEnumerable<SessionInfo> WithViewers(IReadOnlyCollection<SessionInfo> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var watching = sessions.Where(s => s.Role == "view").GroupBy(Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return sessions.Select(s => s with { Viewers = watching.GetValueOrDefault(Key(s)) - (s.Role == "view" ? 1 : 0) });
    }

    // A node of the previous version sends no key: its sessions then count alone.
    private static string Key(SessionInfo session) => session.ConsoleKey ?? "session:" + session.Id;
}
