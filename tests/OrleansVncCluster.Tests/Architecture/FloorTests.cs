using OrleansVncCluster.Relay;
using OrleansVncCluster.Tests.Architecture.Sample.Upper;

namespace OrleansVncCluster.Tests.Architecture;

/// <summary>The relay node's folders only point down; and the check itself catches an arrow that points up.</summary>
public sealed class FloorTests
{
    private const string RelayRoot = "OrleansVncCluster.Relay";

    [Fact]
    public void RelayNodeFolders_OnlyUseFoldersBelowThem()
    {
        var dependencies = DependencyScanner.Scan(typeof(Program).Assembly, RelayRoot);

        var violations = Floors.Violations(dependencies, Floors.RelayNode);

        Assert.True(violations.Count == 0, "Arrows that break the floors (docs/ARCHITECTURE.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void RelayNodeUsings_OnlyNameFoldersBelowThem()
    {
        var source = Path.Combine(RepositoryRoot(), "src", RelayRoot);
        var dependencies = UsingScanner.Scan(source, RelayRoot);

        var violations = Floors.Violations(dependencies, Floors.RelayNode);

        Assert.True(violations.Count == 0, "using directives that break the floors (docs/ARCHITECTURE.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void EveryFloor_HoldsCode()
    {
        var folders = typeof(Program).Assembly.GetTypes().Select(type => DependencyScanner.FolderOf(type, RelayRoot)).OfType<string>().ToHashSet();

        foreach (var floor in Floors.RelayNode)
        {
            Assert.Contains(floor, folders);
        }
    }

    [Fact]
    public void EveryFolderWithCode_IsAFloor()
    {
        var folders = typeof(Program).Assembly.GetTypes().Select(type => DependencyScanner.FolderOf(type, RelayRoot)).OfType<string>().ToHashSet();

        Assert.Empty(folders.Except(Floors.RelayNode));
    }

    [Fact]
    public void UpwardArrowInAMethodBody_IsReported()
    {
        // Sample.Lower calls Sample.Upper only inside a method body: no using, no signature shows it.
        var dependencies = DependencyScanner.Scan(typeof(UpperThing).Assembly, "OrleansVncCluster.Tests.Architecture.Sample");

        var violations = Floors.Violations(dependencies, ["Upper", "Lower"]);

        var violation = Assert.Single(violations);
        Assert.StartsWith("Lower/ -> Upper/ points up", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void UpwardUsing_IsReported()
    {
        var scratch = Directory.CreateTempSubdirectory("floors");
        try
        {
            Directory.CreateDirectory(Path.Combine(scratch.FullName, "Tokens"));
            File.WriteAllText(Path.Combine(scratch.FullName, "Tokens", "TokenGrain.cs"),
                "using Sample.Admission;\n\nnamespace Sample.Tokens;\n\ninternal sealed class TokenGrain;\n");

            var violations = Floors.Violations(UsingScanner.Scan(scratch.FullName, "Sample"), ["Admission", "Tokens"]);

            Assert.StartsWith("Tokens/ -> Admission/ points up (Tokens/TokenGrain.cs: using Sample.Admission)", Assert.Single(violations), StringComparison.Ordinal);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    [Fact]
    public void FoldersThatUseEachOther_AreReported()
    {
        FolderDependency[] dependencies = [new("Tokens", "Cluster", "a"), new("Cluster", "Tokens", "b")];

        var violations = Floors.Violations(dependencies, ["Tokens", "Cluster"]);

        Assert.Contains(violations, v => v.StartsWith("Cluster/ -> Tokens/ points up", StringComparison.Ordinal));
        Assert.Contains("Cluster/ and Tokens/ use each other", violations);
    }

    [Fact]
    public void FolderOnNoFloor_IsReported()
    {
        FolderDependency[] dependencies = [new("Sessions", "Utilities", "x")];

        var violations = Floors.Violations(dependencies, ["Sessions"]);

        Assert.Contains(violations, v => v.StartsWith("Utilities/ is on no floor", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "OrleansVncCluster.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No OrleansVncCluster.sln above {AppContext.BaseDirectory}");
    }
}
