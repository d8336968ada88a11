namespace OrleansVncCluster.Tests.Architecture;

/// <summary>The rule of the floors: a folder uses only folders on the floors below it (docs/ARCHITECTURE.md).</summary>
internal static class Floors
{
    /// <summary>
    /// The relay node's folders, top to bottom; "" is the root namespace (Program). YARP's folders work the same way:
    /// Forwarder/ never imports Management/.
    /// </summary>
    public static readonly string[] RelayNode =
    [
        "", "Hosting", "Admin", "ConsolePage", "Cli", "Node", "Screenshots", "Sessions", "Admission", "Recording", "Tickets", "Sources", "Abiquo", "Tokens", "Audit", "Cluster", "Rfb", "Diagnostics",
    ];

    /// <summary>What breaks the rule: arrows that point up (or sideways into an unknown folder) and pairs that use each other.</summary>
    public static IReadOnlyList<string> Violations(IReadOnlyList<FolderDependency> dependencies, IReadOnlyList<string> floors)
    {
        var problems = new List<string>();
        foreach (var dependency in dependencies.OrderBy(d => d.From, StringComparer.Ordinal).ThenBy(d => d.To, StringComparer.Ordinal))
        {
            var from = IndexOf(floors, dependency.From);
            var to = IndexOf(floors, dependency.To);
            if (from < 0 || to < 0)
            {
                problems.Add($"{Name(from < 0 ? dependency.From : dependency.To)} is on no floor: add it to the floors and docs/ARCHITECTURE.md ({dependency.Evidence})");
            }
            else if (to < from)
            {
                problems.Add($"{Name(dependency.From)} -> {Name(dependency.To)} points up ({dependency.Evidence})");
            }
        }

        var pairs = dependencies.Select(d => (d.From, d.To)).ToHashSet();
        foreach (var (from, to) in pairs.Where(p => string.CompareOrdinal(p.From, p.To) < 0 && pairs.Contains((p.To, p.From))))
        {
            problems.Add($"{Name(from)} and {Name(to)} use each other");
        }

        return problems;
    }

    private static int IndexOf(IReadOnlyList<string> floors, string folder)
    {
        for (var i = 0; i < floors.Count; i++)
        {
            if (floors[i] == folder)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Name(string folder) => folder.Length == 0 ? "(root)" : folder + "/";
}
