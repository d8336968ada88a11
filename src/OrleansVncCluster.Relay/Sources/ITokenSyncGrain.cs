using Orleans.Concurrency;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// The cluster's one token sync (key <see cref="TokenSync.Key"/>): polls every source each <c>Sync:Interval</c>
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
