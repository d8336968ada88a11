using System.Globalization;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// A sync of N simulated VMs from the Abiquo simulator into a node's token grains, with session set-up measured
/// meanwhile. Each size gets a fresh node whose first sync saw an empty inventory; the simulator is then restarted with
/// N VMs on the same port and a sync is asked for (POST /api/sync), so the measured sync writes every token while
/// sessions keep opening against a token from the node's token file.
/// </summary>
internal sealed class SyncWorkload(BenchOptions options, TargetSet targets, string workDirectory, string logDirectory, Action<string> log)
{
    private static readonly TimeSpan SyncWait = TimeSpan.FromMinutes(3);

    /// <summary>The simulator's default: 10,000 VMs a page at 100,000 VMs.</summary>
    private const int Enterprises = 10;

    public async Task<List<SyncResult>> RunAsync()
    {
        if (options.SimulatorPath is not { } simulator || !File.Exists(simulator))
        {
            return NotAvailable($"not yet available: no Abiquo simulator at {options.SimulatorPath ?? "(none given)"}");
        }

        var results = new List<SyncResult>();
        foreach (var vms in options.SyncVms)
        {
            var result = await RunOneAsync(simulator, vms);
            results.Add(result);
            if (!result.Measured)
            {
                // The node cannot sync at all: the other sizes would say the same.
                results.AddRange(options.SyncVms.Skip(results.Count).Select(other => result with { Vms = other }));
                break;
            }
        }

        return results;
    }

    private List<SyncResult> NotAvailable(string reason)
    {
        log($"sync: {reason}");
        return [.. options.SyncVms.Select(vms => new SyncResult(vms, false, reason, null, null, null, null))];
    }

    private async Task<SyncResult> RunOneAsync(string simulator, int vms)
    {
        var label = vms.ToString(CultureInfo.InvariantCulture);
        var (rig, problem) = await SyncRig.StartAsync(options, targets, simulator, vms, Enterprises, workDirectory, logDirectory, label, log);
        if (rig is null)
        {
            return Unavailable(vms, problem!);
        }

        await using (rig)
        {
            var sync = await rig.Node.MeasureSyncAsync(rig.Simulator, options.SyncPace, SyncWait);
            log($"sync {vms:N0}: {sync.Describe()}");
            return sync.ToResult(vms, rig);
        }
    }

    private SyncResult Unavailable(int vms, string reason)
    {
        log($"sync: {reason}");
        return new SyncResult(vms, false, reason, null, null, null, null);
    }
}
