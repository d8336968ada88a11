using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Kestrel's connection caps and the default session cap, kept below the process's open-file limit. At that limit
/// accept() fails with EMFILE, Kestrel's accept loop retries at once and memory grows while nothing is served; under the
/// caps Kestrel accepts and closes the surplus and admission refuses surplus sessions with 4429, so the node stays
/// responsive and its sessions keep running.
/// </summary>
/// <remarks>
/// Kestrel counts a connection against MaxConcurrentConnections until it upgrades to a WebSocket, then against
/// MaxConcurrentUpgradedConnections only, until its request returns; a handed-off session's request returns at once, so
/// the listener counts its upgraded connections against the same cap until they close (Sessions/UpgradeHandoff). An
/// upgraded one also dials the VNC server. So the descriptors in use are at most plain + 2 x upgraded, and that sum is
/// what must stay under the limit minus <see cref="Reserved"/>.
/// </remarks>
public static partial class ConnectionCaps
{
    /// <summary>Descriptors kept for everything that is not a connection: an idle node holds about 320 (mostly its
    /// assemblies, measured with /proc/PID/fd), plus the silo's connections to other nodes, Redis, token files, logs.</summary>
    internal const int Reserved = 512;

    /// <summary>A relayed session holds two descriptors: the browser's socket and the VNC server's.</summary>
    internal const int DescriptorsPerSession = 2;

    /// <summary>Below this many descriptors left for connections the node cannot do its job: said loudly at start-up.</summary>
    internal const int MinimumBudget = 64;

    /// <summary>The caps and the figures they come from; null caps mean unlimited.</summary>
    public sealed record Plan(long? OpenFiles, long? MaxConnections, long? MaxUpgraded, int? DerivedMaxSessions)
    {
        /// <summary>Descriptors the caps may use at most: plain + 2 x upgraded.</summary>
        public long? Descriptors => MaxConnections is { } plain && MaxUpgraded is { } upgraded ? plain + (DescriptorsPerSession * upgraded) : null;
    }

    /// <summary>
    /// The caps for this process: derived from its open-file limit (<see cref="Derive"/>), with Kestrel:Limits:* taking
    /// precedence where the operator set them, and logged. The derived session cap is the default of Relay:MaxSessions.
    /// </summary>
    public static Plan For(IConfiguration configuration, ILogger logger)
    {
        var openFiles = OpenFileLimit();
        var derived = Derive(openFiles);
        var plan = derived with
        {
            MaxConnections = Configured(configuration, "Kestrel:Limits:MaxConcurrentConnections") ?? derived.MaxConnections,
            MaxUpgraded = Configured(configuration, "Kestrel:Limits:MaxConcurrentUpgradedConnections") ?? derived.MaxUpgraded,
        };
        LogCaps(logger, Text(plan.MaxConnections), Text(plan.MaxUpgraded), Text(plan.OpenFiles), Reserved);
        if (openFiles is { } limit && limit - Reserved < MinimumBudget)
        {
            LogLimitTooLow(logger, limit, Reserved + MinimumBudget);
        }
        else if (openFiles is { } open && plan.Descriptors is { } used && used > open - Reserved)
        {
            LogOverLimit(logger, used, open, Reserved);
        }

        return plan;
    }

    /// <summary>Sets Kestrel's caps from <paramref name="plan"/>.</summary>
    public static void Apply(KestrelServerOptions kestrel, Plan plan)
    {
        kestrel.Limits.MaxConcurrentConnections = plan.MaxConnections;
        kestrel.Limits.MaxConcurrentUpgradedConnections = plan.MaxUpgraded;
    }

    /// <summary>
    /// Relay:MaxSessions when the operator did not set it: the derived cap, so sessions are refused with 4429 before
    /// Kestrel's upgrade cap answers 503 (a refusal needs an upgraded connection for its close frame) and long before the
    /// descriptors run out. An explicit value, 0 (no cap) included, stays.
    /// </summary>
    public static void DefaultMaxSessions(AdmissionOptions admission, IConfiguration configuration, Plan plan, ILogger logger)
    {
        if (configuration["Relay:MaxSessions"] is { Length: > 0 } || plan.DerivedMaxSessions is not { } derived)
        {
            return;
        }

        admission.MaxSessions = derived;
        LogDefaultMaxSessions(logger, derived, Text(plan.OpenFiles));
    }

    /// <summary>
    /// The caps for a soft open-file limit. Of the budget (limit - <see cref="Reserved"/>), an eighth goes to plain
    /// connections (handshakes in flight, probes, the console page, the admin API) and the rest to sessions at two
    /// descriptors each; the session cap keeps a sixteenth of the upgraded slots free for the close frames of refusals.
    /// So plain + 2 x upgraded never exceeds the budget.
    /// </summary>
    internal static Plan Derive(long? openFiles)
    {
        if (openFiles is not { } limit)
        {
            return new Plan(null, null, null, null);
        }

        var budget = Math.Max(MinimumBudget / 2, limit - Reserved);
        var plain = Math.Max(8, budget / 8);
        var upgraded = (budget - plain) / DescriptorsPerSession;
        var sessions = upgraded - Math.Max(4, upgraded / 16);
        return new Plan(limit, plain, upgraded, (int)Math.Clamp(sessions, 1, int.MaxValue));
    }

    /// <summary>
    /// The soft RLIMIT_NOFILE of this process, read after the runtime raised it to the hard limit (as .NET does at
    /// start-up on Linux); null when unlimited or unknown (not Linux).
    /// </summary>
    internal static long? OpenFileLimit(string limitsFile = "/proc/self/limits")
    {
        try
        {
            foreach (var line in File.ReadLines(limitsFile))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    return ParseSoftLimit(line["Max open files".Length..]);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>The first column (soft limit) of a /proc/PID/limits row after its name.</summary>
    internal static long? ParseSoftLimit(string columns)
    {
        var soft = columns.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;
    }

    private static string Text(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "unlimited";

    private static long? Configured(IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    [LoggerMessage(EventId = EventIds.ConnectionCaps, Level = LogLevel.Information,
        Message = "Connection caps: {MaxConnections} connections, {MaxUpgraded} WebSocket sessions (open-file limit {OpenFiles} less {Reserved} reserved; plain + 2 per session stays within it; Kestrel:Limits:MaxConcurrentConnections and MaxConcurrentUpgradedConnections override)")]
    private static partial void LogCaps(ILogger logger, string maxConnections, string maxUpgraded, string openFiles, int reserved);

    [LoggerMessage(EventId = EventIds.DefaultMaxSessions, Level = LogLevel.Information,
        Message = "Relay:MaxSessions is not set: {MaxSessions}, what the open-file limit {OpenFiles} carries; beyond it sessions are refused with 4429 (set Relay:MaxSessions to what the memory carries, or 0 for no cap)")]
    private static partial void LogDefaultMaxSessions(ILogger logger, int maxSessions, string openFiles);

    [LoggerMessage(EventId = EventIds.OpenFileLimitTooLow, Level = LogLevel.Warning,
        Message = "The open-file limit is {OpenFiles}: too low for a relay node, which needs {Minimum} or more (2 per session plus about 320 for itself); raise it (systemd LimitNOFILE=262144, ulimit -n, the container runtime's nofile)")]
    private static partial void LogLimitTooLow(ILogger logger, long openFiles, int minimum);

    [LoggerMessage(EventId = EventIds.ConnectionCapsOverLimit, Level = LogLevel.Warning,
        Message = "Kestrel:Limits:* let connections use {Descriptors} descriptors (plain + 2 per session) but the open-file limit {OpenFiles} leaves {Reserved} fewer: a surge can fail accept() with EMFILE; lower the caps or raise the limit")]
    private static partial void LogOverLimit(ILogger logger, long descriptors, long openFiles, int reserved);
}
