using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Kestrel's connection caps, kept below the process's open-file limit. At that limit accept() fails with EMFILE,
/// Kestrel's accept loop retries at once and memory grows while nothing is served; under the cap Kestrel accepts
/// and closes the surplus instead, so the node stays responsive and its sessions keep running.
/// </summary>
public static partial class ConnectionCaps
{
    /// <summary>Descriptors kept for everything that is not a session: the runtime, listeners, the silo's connections
    /// to other nodes, Redis, token files, logs.</summary>
    internal const int Reserved = 512;

    /// <summary>A relayed session holds two descriptors: the browser's socket and the VNC server's.</summary>
    internal const int DescriptorsPerSession = 2;

    /// <summary>
    /// Sets <see cref="KestrelServerLimits.MaxConcurrentConnections"/> and
    /// <see cref="KestrelServerLimits.MaxConcurrentUpgradedConnections"/> from the open-file limit, unless the operator
    /// set them (Kestrel:Limits:*), and logs the figures.
    /// </summary>
    public static void Apply(KestrelServerOptions kestrel, IConfiguration configuration, ILogger logger)
    {
        var openFiles = OpenFileLimit();
        var derived = Derive(openFiles);
        var connections = Configured(configuration, "Kestrel:Limits:MaxConcurrentConnections") ?? derived;
        var upgraded = Configured(configuration, "Kestrel:Limits:MaxConcurrentUpgradedConnections") ?? derived;
        kestrel.Limits.MaxConcurrentConnections = connections;
        kestrel.Limits.MaxConcurrentUpgradedConnections = upgraded;
        LogCaps(logger, connections?.ToString(CultureInfo.InvariantCulture) ?? "unlimited", upgraded?.ToString(CultureInfo.InvariantCulture) ?? "unlimited",
            openFiles?.ToString(CultureInfo.InvariantCulture) ?? "unlimited");
    }

    /// <summary>The cap for a soft open-file limit: what is left after the reserve, two descriptors per session.</summary>
    internal static long? Derive(long? openFiles) =>
        openFiles is { } limit ? Math.Max(16, (limit - Reserved) / DescriptorsPerSession) : null;

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

    private static long? Configured(IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    [LoggerMessage(EventId = EventIds.ConnectionCaps, Level = LogLevel.Information,
        Message = "Connection caps: {MaxConnections} connections, {MaxUpgraded} WebSocket sessions (open-file limit {OpenFiles}, 2 per session; set Kestrel:Limits:MaxConcurrentConnections to override)")]
    private static partial void LogCaps(ILogger logger, string maxConnections, string maxUpgraded, string openFiles);
}
