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
}
