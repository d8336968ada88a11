using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>
/// Token files applied only when stable (issue 12, item 9): a file truncated in place to one of its ten tokens (a
/// rewrite caught mid-way) is not applied at once; the mass-removal guard holds it, and the other tokens still open
/// consoles.
/// </summary>
public sealed class TokenFileStabilityTests : IAsyncLifetime
{
    private readonly TcpTarget _echo = TcpTarget.Echo();
    private string _file = null!;
    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        _file = TokenFiles.Write(Repo.TempDirectory("file-stability"), [.. Enumerable.Range(0, 10).Select(i => ($"stable-{i}", $"127.0.0.1:{_echo.Port}"))]);
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings { TokenFile = _file, SiloName = "file-stability" });
        await using var first = await ConsoleClient.OpenEchoingAsync(_node, "stable-9");
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task FileTruncatedInPlace_IsHeldByTheMassRemovalGuard_AndItsTokensStillOpen()
    {
        await File.WriteAllTextAsync(_file, $"stable-0: 127.0.0.1:{_echo.Port}\n", TestContext.Current.CancellationToken);

        await Eventually.HoldsAsync(
            () => Task.FromResult(_node.Process.Tail(20000).Contains("would remove 9 of 10 tokens", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the node logs that it holds the removal of 9 of 10 tokens");
        await using var client = await ConsoleClient.OpenEchoingAsync(_node, "stable-9");

        Assert.True(await client.EchoesAsync());
    }
}
