using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>
/// Revocation that holds (issue 12, item 4): with every revocation broadcast dropped on the node (fault injection,
/// Revalidation:DropBroadcastsForTesting), a live session on a removed token still ends with 4410 within the
/// re-validation period, and a session on a token that stays keeps relaying.
/// </summary>
public sealed class RevalidationTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly TcpTarget _echo = TcpTarget.Echo();
    private string _file = null!;
    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        _file = TokenFiles.Write(Repo.TempDirectory("revalidation"), ("kept", $"127.0.0.1:{_echo.Port}"), ("revoked", $"127.0.0.1:{_echo.Port}"));
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = _file,
            SiloName = "revalidation",
            Environment =
            {
                ["Revalidation__Interval"] = Interval.ToString(),
                ["Revalidation__DropBroadcastsForTesting"] = "true",
            },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task RemovedToken_WithTheBroadcastDropped_EndsItsLiveSessionWithinTheRevalidationPeriod()
    {
        await using var kept = await ConsoleClient.OpenEchoingAsync(_node, "kept");
        await using var revoked = await ConsoleClient.OpenEchoingAsync(_node, "revoked");
        Assert.True(await revoked.EchoesAsync());

        TokenFiles.Rewrite(_file, ("kept", $"127.0.0.1:{_echo.Port}"));

        // The file is applied within a few seconds (Tokens:FilePollInterval at worst); then one re-validation round.
        var (status, reason) = await revoked.ReadUntilCloseAsync(TimeSpan.FromSeconds(10) + (2 * Interval));
        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Contains("revoked", reason, StringComparison.Ordinal);
        Assert.True(await kept.EchoesAsync(), "the session on the token that stayed still relays");
        // The node logs the end after it sent the close, so the client can read the close before the line reaches stdout.
        await Eventually.HoldsAsync(() => _node.Process.Tail(20000).Contains("ended by re-validation", StringComparison.Ordinal),
            TimeSpan.FromSeconds(5), "the node logs that re-validation ended the session");
        var log = _node.Process.Tail(20000);
        Assert.Contains("dropped: Revalidation:DropBroadcastsForTesting", log, StringComparison.Ordinal);
        Assert.Contains("ended by re-validation", log, StringComparison.Ordinal);
    }
}
