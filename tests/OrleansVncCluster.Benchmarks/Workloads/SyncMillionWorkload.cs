using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// The sync-1m workload: a fresh Redis-backed node's first sync of 1,000,000 simulated VMs, then a re-sync after the simulator gave
/// every 100th VM with a console a new VNC port (1 % of the tokens: each an old token removed and a new one written).
/// Each is measured as the sync workload measures its one sync (set-up latency while sessions keep opening, CPU), plus
/// the node's peak RSS: the targets are that the first sync completes within 1.5 GB with sessions still opening, and
/// that the re-sync takes under 30 s.
/// </summary>
internal sealed class SyncMillionWorkload(BenchOptions options, TargetSet targets, string workDirectory, string logDirectory, Action<string> log)
{
    /// <summary>Every this many VMs with a console, one gets a new port for the re-sync: 1 %.</summary>
    public const int ChangedEvery = 100;

    /// <summary>
    /// How long the first sync may take before it is reported unfinished: writes run at what the node and Redis manage
    /// with Sync:ApplyParallelism in flight, not at the pace of Sync:ApplyBudget (1,286/s here at load 20: 834,417
    /// tokens in 649 s, the whole sync 775 s, on 2026-12-02).
    /// </summary>
    private static readonly TimeSpan FirstSyncWait = TimeSpan.FromMinutes(30);

    private static readonly TimeSpan ResyncWait = TimeSpan.FromMinutes(5);

    /// <summary>
    /// 10,000 VMs an enterprise, the page size of the sync workload's 100,000 VMs: a cloud of a million VMs has many
    /// tenants. With the simulator's default 10 (100,000 VMs, about 74 MB of JSON a page) the node's first read failed on
    /// Abiquo:Timeout (30 s for a request, body included) on this machine at load 27 (run of 2026-12-02 19:34 UTC).
    /// </summary>
    private const int Enterprises = 100;

    public async Task<List<SyncResult>> RunAsync()
    {
        var vms = options.SyncMillionVms;
        if (options.SimulatorPath is not { } simulator || !File.Exists(simulator))
        {
            return Unavailable(vms, $"not yet available: no Abiquo simulator at {options.SimulatorPath ?? "(none given)"}");
        }

        // Redis-backed, as a site of this size runs its nodes: on the embedded node the token table itself lives in the
        // node's memory (grain storage in memory: about 1.2 KB a token, 2,277 MiB peak RSS for 834,417 tokens in the
        // run of 2026-12-02 19:35 UTC), which no node of a real cluster holds.
        await using var redis = await RedisServer.StartAsync(logDirectory);
        var environment = new Dictionary<string, string> { ["Redis__ConnectionString"] = redis.ConnectionString };
        var (rig, problem) = await SyncRig.StartAsync(options, targets, simulator, vms, Enterprises, workDirectory, logDirectory, "1m", log, environment);
        if (rig is null)
        {
            return Unavailable(vms, problem!);
        }

        await using (rig)
        {
            var first = await rig.Node.MeasureSyncAsync(rig.Simulator, options.SyncPace, FirstSyncWait);
            log($"sync-1m {vms:N0} VMs, {SyncResult.FirstSync}: {first.Describe()}; redis-server RSS {RssMiB(redis):F0} MiB");
            var results = new List<SyncResult> { first.ToResult(vms, rig, SyncResult.FirstSync) with { StorageRssMiB = RssMiB(redis) } };
            if (first.Problem is not null)
            {
                // A re-sync after a first sync that did not finish would measure the rest of the first.
                return results;
            }

            var changed = await rig.Simulator.RenumberConsolesAsync(ChangedEvery);
            await SyncRig.ReadInventoryAsync(rig.Simulator, "1m", log);
            var resync = await rig.Node.MeasureSyncAsync(rig.Simulator, options.SyncPace, ResyncWait);
            log($"sync-1m {vms:N0} VMs, {SyncResult.Resync} ({changed:N0} VMs moved): {resync.Describe()}; redis-server RSS {RssMiB(redis):F0} MiB");
            results.Add(resync.ToResult(vms, rig, SyncResult.Resync) with { ChangedVms = changed, StorageRssMiB = RssMiB(redis) });
            return results;
        }
    }

    private static double RssMiB(RedisServer redis) => ProcFs.RssKiB(redis.Process.Pid) / 1024.0;

    private List<SyncResult> Unavailable(int vms, string reason)
    {
        log($"sync-1m: {reason}");
        return [new SyncResult(vms, false, reason, null, null, null, null) { Phase = SyncResult.FirstSync }];
    }
}
