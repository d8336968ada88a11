using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace OrleansVncCluster.Benchmarks.Reporting;

/// <summary>Reads what the figures depend on: cores, CPU, memory, kernel, and the peers' package versions.</summary>
internal static class Machine
{
    public static MachineInfo Describe() => new(
        Environment.ProcessorCount,
        FirstValue("/proc/cpuinfo", "model name") ?? "unknown",
        (long.TryParse(FirstValue("/proc/meminfo", "MemTotal")?.Split(' ')[0], CultureInfo.InvariantCulture, out var kib) ? kib : 0) / 1024,
        Read("/proc/sys/kernel/osrelease"),
        RuntimeInformation.FrameworkDescription,
        PackageVersion("websockify"),
        PackageVersion("socat"),
        PackageVersion("haproxy"),
        "shared machine: other work may run at the same time; the bench, its targets and every peer share these cores");

    private static string? FirstValue(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc hidden: the report says "unknown".
        }

        return null;
    }

    private static string Read(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string PackageVersion(string package)
    {
        try
        {
            using var query = Process.Start(new ProcessStartInfo("dpkg-query", ["-W", "-f=${Version}", package])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (query is null)
            {
                return "unknown";
            }

            var version = query.StandardOutput.ReadToEnd().Trim();
            query.WaitForExit();
            return query.ExitCode == 0 && version.Length > 0 ? version : "not installed";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
