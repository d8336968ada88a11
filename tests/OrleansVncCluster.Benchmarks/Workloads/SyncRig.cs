using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// What every measured sync starts from: a fresh node whose first sync saw an empty simulator, warmed with sessions, its
/// idle set-up latency, and then the simulator restarted with N VMs on the same port, so the next sync asked for writes
/// every token.
/// </summary>
internal sealed class SyncRig : IAsyncDisposable
{
    private SyncRig(SyncNode node, AbiquoSimulator simulator, LatencyResult baseline, NodeCollections? idleCollections)
    {
        Node = node;
        Simulator = simulator;
        Baseline = baseline;
        IdleCollections = idleCollections;
    }

    public SyncNode Node { get; }

    /// <summary>The simulator with the N VMs.</summary>
    public AbiquoSimulator Simulator { get; }

    /// <summary>Set-up latency of the idle, warmed node over <see cref="BenchOptions.SyncIdleWindow"/>, before the simulator had any VM.</summary>
    public LatencyResult Baseline { get; }

    /// <summary>The node's collections over the same window; null when it did not answer a scrape.</summary>
    public NodeCollections? IdleCollections { get; }

    /// <summary>The rig, or why the sync cannot be measured on this node.</summary>
    /// <param name="enterprises">Enterprises the VMs are spread over: the node reads each one's VMs as one page.</param>
    /// <param name="label">Names the node's and the simulators' logs (relay-sync-LABEL.log).</param>
    /// <param name="nodeEnvironment">More settings of the node (a Redis connection string for a Redis-backed node).</param>
    public static async Task<(SyncRig? Rig, string? Problem)> StartAsync(BenchOptions options, TargetSet targets, string simulatorPath, int vms, int enterprises,
        string workDirectory, string logDirectory, string label, Action<string> log, IReadOnlyDictionary<string, string>? nodeEnvironment = null)
    {
        var password = await AbiquoSimulator.WritePasswordFileAsync(workDirectory);
        var port = Ports.Free();
        await using var empty = await AbiquoSimulator.StartAsync(simulatorPath, port, 0, enterprises, password, Path.Combine(logDirectory, $"abiquo-simulator-empty-{label}.log"));
        var node = await SyncNode.StartAsync(options, targets, workDirectory, logDirectory, $"relay-sync-{label}", empty.ApiUrl, password,
            nodeEnvironment ?? new Dictionary<string, string>());
        try
        {
            if (await node.SyncUnavailableAsync() is { } unavailable)
            {
                await node.DisposeAsync();
                return (null, unavailable);
            }

            if (await node.WaitForFirstSyncAsync() is { } problem)
            {
                await node.DisposeAsync();
                return (null, $"the node's first sync (empty inventory) did not succeed: {problem}");
            }

            var (baseline, idleCollections) = await node.MeasureIdleAsync(options);
            log(FormattableString.Invariant($"sync {label}: idle set-up p99 {baseline.P99Ms:F2} ms over {baseline.Succeeded:N0} sessions ({baseline.Failed} failed){SyncMeasurement.DescribeCollections(idleCollections)}"));

            await empty.DisposeAsync();
            var full = await AbiquoSimulator.StartAsync(simulatorPath, port, vms, enterprises, password, Path.Combine(logDirectory, $"abiquo-simulator-{label}.log"));
            try
            {
                await ReadInventoryAsync(full, label, log);
            }
            catch
            {
                await full.DisposeAsync();
                throw;
            }

            return (new SyncRig(node, full, baseline, idleCollections), null);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Reads the simulator's inventory once before a sync is measured (<see cref="AbiquoSimulator.ReadInventoryAsync"/>):
    /// the sync is then served the lists the simulator kept, so its figures are the node's rather than the stand-in API's.
    /// </summary>
    public static async Task ReadInventoryAsync(AbiquoSimulator simulator, string label, Action<string> log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var bytes = await simulator.ReadInventoryAsync();
        log(FormattableString.Invariant($"sync {label}: the simulator's inventory read once ({bytes / 1048576.0:F0} MiB in {clock.Elapsed.TotalSeconds:F1} s), so the measured sync is served the lists it kept"));
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
