using OrleansVncCluster.Benchmarks.Reporting;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>A run that measured nothing yet, for the report's tests to fill.</summary>
internal static class BenchResultsSamples
{
    public static BenchResults Empty() => new()
    {
        Machine = new MachineInfo(2, "cpu", 1024, "6", ".NET", "-", "-", "-", "test"),
        StartedUtc = DateTimeOffset.UnixEpoch,
        Settings = new BenchSettings
        {
            Quick = false,
            Rounds = 3,
            ThroughputSeconds = 3,
            WarmupSeconds = 0.5,
            FrameBytes = 65536,
            EchoWindowFrames = 4,
            ThroughputConnections = [1, 16],
            SetupSessions = 1000,
            SetupConcurrency = 16,
            SetupWarmupSessions = 100,
            IdleTiers = [1000],
            TokenFileTokens = 10_000,
            SyncVms = [10_000],
            Peers = ["relay", "relay-login"],
            DescriptorLimit = 20_000,
            Seed = 7,
            Commit = "0123abc",
            FullRun = false,
            CommandLine = "vnc-bench run",
        },
    };

    /// <summary>A throughput figure of <paramref name="peer"/>: <paramref name="mibPerSecond"/> over 3 s.</summary>
    public static ThroughputResult Rate(string peer, string mode, double mibPerSecond, int connections = 1) =>
        new(peer, mode, connections, 3, (long)(mibPerSecond * 3 * 1024 * 1024), mibPerSecond, 100, 0, null);

    /// <summary>A set-up latency figure of <paramref name="peer"/>: 1,000 sessions at concurrency 16.</summary>
    public static LatencyResult Setup(string peer, double p50, double p99, int failed = 0) =>
        new(peer, "setup", 1000, 16, 1000 - failed, failed, p50, p99 * 0.8, p99, p99 * 1.2, p50, 2000, failed > 0 ? "refused" : null) { RoundP99Ms = [p99] };
}
