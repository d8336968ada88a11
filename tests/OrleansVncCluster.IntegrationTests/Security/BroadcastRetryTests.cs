using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>
/// Lost revocation broadcasts are retried (issue 12, item 4): the node's first two deliveries fail (fault injection,
/// Revalidation:FailFirstBroadcastsForTesting), and the node directory's retry still ends the live session on the
/// removed token within seconds. Re-validation runs once a minute here, so it cannot be what ended the session; the
/// log says which attempt delivered.
/// </summary>
public sealed class BroadcastRetryTests : IAsyncLifetime
{
    private readonly TcpTarget _echo = TcpTarget.Echo();
    private string _file = null!;
    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        _file = TokenFiles.Write(Repo.TempDirectory("broadcast-retry"), ("kept", $"127.0.0.1:{_echo.Port}"), ("revoked", $"127.0.0.1:{_echo.Port}"));
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = _file,
            SiloName = "broadcast-retry",
            Environment =
            {
                ["Revalidation__Interval"] = "00:01:00",
                ["Revalidation__FailFirstBroadcastsForTesting"] = "2",
            },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _echo.DisposeAsync();
    }

    [Fact]
    public async Task FailedDeliveries_AreRetried_AndEndTheSessionLongBeforeReValidation()
    {
        await using var kept = await ConsoleClient.OpenEchoingAsync(_node, "kept");
        await using var revoked = await ConsoleClient.OpenEchoingAsync(_node, "revoked");
        Assert.True(await revoked.EchoesAsync());

        TokenFiles.Rewrite(_file, ("kept", $"127.0.0.1:{_echo.Port}"));

        // The file is applied within a few seconds, then two failed deliveries and the retries' 0.5 s + 1 s.
        var (status, reason) = await revoked.ReadUntilCloseAsync(TimeSpan.FromSeconds(20));
        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Contains("revoked", reason, StringComparison.Ordinal);
        Assert.True(await kept.EchoesAsync(), "the session on the token that stayed still relays");
        // The directory grain logs the delivery once the node's call has returned, so a moment after the close.
        await _node.Process.WaitForOutputAsync("took a revocation at attempt 3", TimeSpan.FromSeconds(10));
        var log = _node.Process.Tail(20000);
        Assert.Contains("failed on purpose (delivery 2)", log, StringComparison.Ordinal);
        Assert.DoesNotContain("ended by re-validation", log, StringComparison.Ordinal);
    }
}
