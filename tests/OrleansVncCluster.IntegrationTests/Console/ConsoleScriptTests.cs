using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Console;

/// <summary>The page scripts' own unit tests (web/test, Node's test runner), so `make test` runs and counts them too.</summary>
public sealed class ConsoleScriptTests
{
    [Fact]
    public async Task ConsoleAndDropInScripts_PassTheirUnitTests()
    {
        await using var node = ManagedProcess.Start("node-test", "node", ["--test", "test/"], workingDirectory: Path.Combine(Repo.Root, "web"));

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60)), "node --test finishes within a minute");
        Assert.True(node.ExitCode == 0, $"node --test failed:\n{node.Tail()}");
        Assert.Contains("# fail 0", node.Output, StringComparison.Ordinal);
    }
}
