using System.Text.RegularExpressions;

namespace OrleansVncCluster.Tests.Architecture;

/// <summary>
/// The folder dependencies that <c>using</c> directives declare in the source tree. The IL scan cannot see constants
/// (the compiler copies a const's value into its user), so a folder that only borrows another's close codes shows up
/// here and not there.
/// </summary>
internal static partial class UsingScanner
{
    /// <summary>Every (from folder, to folder, file) of the .cs files under <paramref name="sourceRoot"/>.</summary>
    public static IReadOnlyList<FolderDependency> Scan(string sourceRoot, string rootNamespace)
    {
        var found = new Dictionary<(string From, string To), string>();
        foreach (var file in Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sourceRoot, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal))
            {
                continue;
            }

            var from = Path.GetDirectoryName(relative) is { Length: > 0 } directory ? directory.Split(Path.DirectorySeparatorChar)[0] : "";
            foreach (Match match in UsingDirective().Matches(File.ReadAllText(file)))
            {
                var ns = match.Groups["ns"].Value;
                if (ns.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
                {
                    var to = ns[(rootNamespace.Length + 1)..].Split('.')[0];
                    if (to != from)
                    {
                        found.TryAdd((from, to), $"{relative}: using {ns}");
                    }
                }
            }
        }

        return [.. found.Select(pair => new FolderDependency(pair.Key.From, pair.Key.To, pair.Value))];
    }

    [GeneratedRegex(@"^using (?:static )?(?<ns>[\w.]+);", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();
}
