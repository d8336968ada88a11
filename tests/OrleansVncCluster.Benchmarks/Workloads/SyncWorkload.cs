using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// A sync of N simulated VMs from the Abiquo simulator into a node's token grains, with session set-up measured
/// meanwhile. Needs the simulator and the node's Abiquo sync; until both exist it reports why it did not run.
/// </summary>
internal sealed class SyncWorkload(BenchOptions options, TargetSet targets, string workDirectory, string logDirectory, Action<string> log)
{
    public Task<List<SyncResult>> RunAsync()
    {
        _ = targets;
        _ = workDirectory;
        _ = logDirectory;
        var reason = options.SimulatorPath is { } path && File.Exists(path)
            ? "not yet available: the node has no Abiquo sync yet"
            : $"not yet available: no Abiquo simulator at {options.SimulatorPath ?? "(none given)"}";
        log($"sync: {reason}");
        return Task.FromResult(options.SyncVms.Select(vms => new SyncResult(vms, false, reason, null, null, null, null)).ToList());
    }
}
