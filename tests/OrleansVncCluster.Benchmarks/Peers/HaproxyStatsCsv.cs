namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>Reads HAProxy's stats page as CSV (<c>/stats;csv</c>): a "# pxname,svname,...,status,..." header, a row per proxy and server.</summary>
internal static class HaproxyStatsCsv
{
    /// <summary>The status column of server <paramref name="server"/> of <paramref name="backend"/>; null when it is not listed.</summary>
    public static string? ServerStatus(string csv, string backend, string server)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0)
        {
            return null;
        }

        var status = Array.IndexOf(lines[0].TrimStart('#', ' ').Split(','), "status");
        if (status < 0)
        {
            return null;
        }

        return lines.Skip(1)
            .Select(line => line.Split(','))
            .FirstOrDefault(fields => fields.Length > status && fields[0] == backend && fields[1] == server)?[status];
    }
}
