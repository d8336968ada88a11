using System.Text.Json;

namespace OrleansVncCluster.Benchmarks.Peers;

/// <summary>One silo of the Orleans membership table: its address, its generation (one per start) and its status.</summary>
internal sealed record SiloRow(string Address, string Generation, int Status)
{
    /// <summary>Orleans' SiloStatus.Active.</summary>
    public const int Active = 3;

    /// <summary>Orleans' SiloStatus.Dead: declared dead by the others' votes (or stopped); never undone.</summary>
    public const int Dead = 6;
}

/// <summary>
/// Reads the Redis membership table of Orleans' Redis clustering: a hash whose fields are silos (plus a "Version" field)
/// and whose values are JSON such as {"SiloAddress":{"SiloAddress":"10.0.0.5:11111@GENERATION"},"Status":3,...}.
/// </summary>
internal static class MembershipTable
{
    /// <summary>The key of the table of a cluster whose service id and cluster id are both <paramref name="cluster"/>.</summary>
    public static string Key(string cluster) => $"{cluster}/members/{cluster}";

    public static List<SiloRow> Parse(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var rows = new List<SiloRow>();
        foreach (var (name, value) in fields)
        {
            if (name == "Version")
            {
                continue;
            }

            using var entry = JsonDocument.Parse(value);
            var silo = entry.RootElement.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString() ?? "";
            var at = silo.IndexOf('@', StringComparison.Ordinal);
            rows.Add(new SiloRow(at < 0 ? silo : silo[..at], at < 0 ? "" : silo[(at + 1)..], entry.RootElement.GetProperty("Status").GetInt32()));
        }

        return rows;
    }
}
