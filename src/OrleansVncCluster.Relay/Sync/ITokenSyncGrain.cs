using System.Collections.Immutable;
using Orleans.Concurrency;

namespace OrleansVncCluster.Relay.Sync;

/// <summary>
/// The cluster's one token sync (key <see cref="TokenSync.Key"/>): polls every source each <c>Abiquo:SyncInterval</c>
/// and applies the differences to the token grains. Kept running by a start-up task, a keeper on every node and a
/// reminder, so it comes back on a surviving node when its node dies.
/// </summary>
[Alias("vnc.ITokenSyncGrain")]
public interface ITokenSyncGrain : IGrainWithIntegerKey
{
    /// <summary>Activates the grain (which starts its timer); cheap, called by every node's keeper.</summary>
    [AlwaysInterleave, Alias("EnsureRunning")]
    Task EnsureRunningAsync();

    /// <summary>Syncs now, after any sync in progress, whatever the backoff; returns the status afterwards.</summary>
    [Alias("SyncNow"), ResponseTimeout("00:05:00")]
    Task<SyncStatus> SyncNowAsync();

    /// <summary>The status; answers even while a sync runs.</summary>
    [AlwaysInterleave, Alias("GetStatus")]
    Task<SyncStatus> GetStatusAsync();
}

/// <summary>Constants of the token sync.</summary>
public static class TokenSync
{
    /// <summary>The sync grain is a cluster singleton under this key.</summary>
    public const long Key = 0;

    /// <summary>The reminder that re-activates the grain after its silo died (reminders are durable, timers are not).</summary>
    public const string ReminderName = "token-sync";

    /// <summary>Reminder period; Orleans' minimum. The keeper usually brings the grain back much sooner.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait between retries after failures.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
}

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

/// <summary>One source's part of the last sync.</summary>
[GenerateSerializer, Immutable, Alias("vnc.SourceSyncStatus")]
public sealed record SourceSyncStatus
{
    [Id(0)] public required string Name { get; init; }

    /// <summary>Tokens the source owns in the table after the last sync.</summary>
    [Id(1)] public int Tokens { get; init; }

    /// <summary>Tokens written (new or changed) by the last applied sync.</summary>
    [Id(2)] public int Written { get; init; }

    /// <summary>Tokens removed by the last applied sync.</summary>
    [Id(3)] public int Removed { get; init; }

    /// <summary>Tokens the last applied sync found already right.</summary>
    [Id(4)] public int Unchanged { get; init; }

    /// <summary>Token writes or removals that failed (retried next time).</summary>
    [Id(5)] public int Failed { get; init; }

    [Id(6)] public DateTimeOffset? LastSuccessAt { get; init; }

    [Id(7)] public string? LastError { get; init; }

    /// <summary>Removals held by the mass-removal guard, waiting for the same answer again; null when nothing is held.</summary>
    [Id(8)] public int? HeldRemovals { get; init; }
}
