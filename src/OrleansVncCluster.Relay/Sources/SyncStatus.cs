using System.Collections.Immutable;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>The sync as <c>GET /api/sync</c> shows it. Holds no password and no whole token.</summary>
[GenerateSerializer, Immutable, Alias("vnc.SyncStatus")]
public sealed record SyncStatus
{
    /// <summary>The silo running the sync grain.</summary>
    [Id(0)] public string? Host { get; init; }

    /// <summary>Time between syncs when all is well.</summary>
    [Id(1)] public TimeSpan Interval { get; init; }

    /// <summary>Syncs run by this activation.</summary>
    [Id(2)] public long Runs { get; init; }

    /// <summary>When the last sync started.</summary>
    [Id(3)] public DateTimeOffset? LastRunAt { get; init; }

    /// <summary>When a sync last finished without any error.</summary>
    [Id(4)] public DateTimeOffset? LastSuccessAt { get; init; }

    /// <summary>How long the last sync took.</summary>
    [Id(5)] public TimeSpan? LastDuration { get; init; }

    /// <summary>The last sync's error, or null when it succeeded.</summary>
    [Id(6)] public string? LastError { get; init; }

    /// <summary>When the last error happened (kept after later successes).</summary>
    [Id(7)] public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>Failed syncs in a row; each one doubles the wait before the next (up to <see cref="TokenSync.MaxBackoff"/>).</summary>
    [Id(8)] public int ConsecutiveFailures { get; init; }

    /// <summary>When the next sync is due (approximately: the timer counts from the end of a sync).</summary>
    [Id(9)] public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>Tokens the sources own, summed.</summary>
    [Id(10)] public int Tokens { get; init; }

    /// <summary>Per source.</summary>
    [Id(11)] public ImmutableArray<SourceSyncStatus> Sources { get; init; } = [];
}
