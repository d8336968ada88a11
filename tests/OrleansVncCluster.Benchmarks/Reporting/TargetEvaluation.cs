using System.Globalization;

namespace OrleansVncCluster.Benchmarks.Reporting;

/// <summary>The targets of issue 6, judged on ratios measured in the same run.</summary>
internal static class TargetEvaluation
{
    public const string Pass = "PASS";
    public const string Fail = "FAIL";
    public const string NotMeasured = "NOT MEASURED";

    private const int IdleTarget = 10_000;
    private const double IdleBudgetMiB = 300;

    public static IEnumerable<TargetVerdict> Evaluate(BenchResults results)
    {
        yield return Echo(results);
        yield return Setup(results);
        yield return Idle(results);
        yield return Sync(results);
    }

    private static TargetVerdict Echo(BenchResults results)
    {
        const string name = "Echo throughput, 1 connection, 64 KiB frames: >= 0.9x socat and >= 2x websockify";
        double? Rate(string peer) => results.Throughput.FirstOrDefault(t => t.Peer == peer && t.Mode == "echo" && t.Connections == 1 && t.Error is null)?.MiBPerSecond;
        if (Rate("relay") is not { } relay || Rate("socat") is not { } socat || Rate("websockify") is not { } websockify)
        {
            return new TargetVerdict(name, NotMeasured, "needs echo x1 for relay, socat and websockify in the same run");
        }

        var ok = relay >= 0.9 * socat && relay >= 2 * websockify;
        return new TargetVerdict(name, ok ? Pass : Fail, Format(
            $"relay {relay:F0} MiB/s = {relay / socat:F2}x socat ({socat:F0}), {relay / websockify:F2}x websockify ({websockify:F0})"));
    }

    private static TargetVerdict Setup(BenchResults results)
    {
        const string name = "Session set-up p99 at concurrency 16: <= socat's p99 and <= 1/10 of websockify's";
        double? P99(string peer) => results.Setup.FirstOrDefault(s => s.Peer == peer && s.Succeeded > 0)?.P99Ms;
        if (P99("relay") is not { } relay || P99("socat") is not { } socat || P99("websockify") is not { } websockify)
        {
            return new TargetVerdict(name, NotMeasured, "needs set-up latency for relay, socat and websockify in the same run");
        }

        var ok = relay <= socat && relay <= websockify / 10;
        return new TargetVerdict(name, ok ? Pass : Fail, Format(
            $"relay p99 {relay:F2} ms = {relay / socat:F2}x socat ({socat:F2} ms), {relay / websockify:F3}x websockify ({websockify:F2} ms)"));
    }

    private static TargetVerdict Idle(BenchResults results)
    {
        const string name = "10,000 concurrent idle sessions, resident memory growth <= 300 MB";
        var idle = results.Idle.Where(i => i.Peer == "relay").MaxBy(i => i.Requested);
        if (idle is null || idle.Reached == 0)
        {
            return new TargetVerdict(name, NotMeasured, "no idle-session run on the relay");
        }

        if (idle.Reached >= IdleTarget)
        {
            return new TargetVerdict(name, idle.RssGrowthMiB <= IdleBudgetMiB ? Pass : Fail,
                Format($"{idle.Reached:N0} sessions held, RSS +{idle.RssGrowthMiB:F0} MiB ({idle.RssPerSessionKiB:F1} KiB/session)"));
        }

        // Held fewer than asked: judge the measured per-session cost, and say plainly that 10,000 were not reached.
        var projected = idle.RssPerSessionKiB * IdleTarget / 1024;
        var verdict = projected <= IdleBudgetMiB ? $"{Pass} (projected)" : Fail;
        var held = Format($"held {idle.Reached:N0} of {idle.Requested:N0} ({idle.StopReason}); RSS +{idle.RssGrowthMiB:F0} MiB = {idle.RssPerSessionKiB:F1} KiB/session");
        var limit = Format($"{projected:F0} MiB projected for {IdleTarget:N0}; {idle.DescriptorsAfter:N0} descriptors open at the peak (limit {results.Settings.DescriptorLimit:N0} per process)");
        return new TargetVerdict(name, verdict, $"{held}, {limit}");
    }

    private static TargetVerdict Sync(BenchResults results)
    {
        const string name = "Sync of 100,000 VMs < 30 s, set-up p99 during it within 2x of idle";
        var sync = results.Sync.Where(s => s.Measured).MaxBy(s => s.Vms);
        if (sync is null)
        {
            var why = results.Sync.FirstOrDefault()?.Status ?? "sync workload not run";
            return new TargetVerdict(name, NotMeasured, why);
        }

        if (sync.SyncSeconds is not { } seconds || sync.SetupDuringSync is not { } during || sync.SetupIdleBaseline is not { } idle)
        {
            return new TargetVerdict(name, Fail, Format($"{sync.Vms:N0} VMs: {sync.Status}"));
        }

        var ratio = idle.P99Ms > 0 ? during.P99Ms / idle.P99Ms : double.PositiveInfinity;
        var ok = seconds < 30 && ratio <= 2;
        var verdict = sync.Vms < 100_000 ? $"{NotMeasured} (largest run {sync.Vms:N0} VMs)" : ok ? Pass : Fail;
        return new TargetVerdict(name, verdict, Format(
            $"{sync.Vms:N0} VMs in {seconds:F1} s; set-up p99 {during.P99Ms:F2} ms during vs {idle.P99Ms:F2} ms idle ({ratio:F2}x)"));
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
