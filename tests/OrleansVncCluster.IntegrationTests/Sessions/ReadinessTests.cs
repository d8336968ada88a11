using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>
/// /readyz is the balancer's word that a node serves consoles: a node that said 200 before its token file was loaded
/// answered its first consoles 4404 "unknown token" (the bench's cold-node workload saw 200 of 200 refused).
/// </summary>
public sealed class ReadinessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ANodeWithALargeTokenFile_IsReadyOnlyOnceItIsLoaded_SoTheFirstConsoleAfterReadyOpens()
    {
        await using var echo = TcpTarget.Echo();
        var run = Guid.NewGuid().ToString("N")[..8];
        // Large enough that loading it takes a while after the silo is Active (about 1 s in embedded mode here).
        var entries = Enumerable.Range(0, 5000).Select(i => ($"ready-{run}-{i:D5}", $"127.0.0.1:{echo.Port}")).ToArray();
        var file = TokenFiles.Write(Repo.TempDirectory("readiness"), entries);

        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { SiloName = "readiness-node", TokenFile = file });

        // One attempt, no retry, right after /readyz said 200: the last token of the file opens.
        var refusal = "none";
        await using var first = await ConsoleClient.TryOpenEchoingAsync(node.WebSocketUri(entries[^1].Item1), refused: r => refusal = r);
        Assert.True(first is not null, $"the first console after /readyz answered 200 opens; it got: {refusal}");
        output.WriteLine($"readiness: the first console after /readyz opened ({entries.Length} tokens in the node's file)");
    }
}
