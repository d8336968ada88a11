using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>The relay's wire behaviour against one real node process: relaying, subprotocols, and every close case,
/// each followed by a good session to show the node kept serving.</summary>
public sealed class RelaySessionTests(SingleNodeFixture fixture) : IClassFixture<SingleNodeFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EchoTarget_RelaysTenMegabytesEachWayByteExact_InFourConcurrentSessions()
    {
        const int size = 10 * 1024 * 1024;
        var sessions = Enumerable.Range(0, 4).Select(async _ =>
        {
            var payload = RandomNumberGenerator.GetBytes(size);
            await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken));
            var reading = client.ReadExactlyAsync(size, TimeSpan.FromSeconds(120));
            for (var offset = 0; offset < size; offset += 60_000)
            {
                await client.SendAsync(payload.AsMemory(offset, Math.Min(60_000, size - offset)));
            }

            var echoed = await reading;
            Assert.True(payload.AsSpan().SequenceEqual(echoed), "echoed bytes differ from the bytes sent");
        });
        await Task.WhenAll(sessions);
    }

    [Fact]
    public async Task TargetCloses_ClosesWith1000AfterRelayingItsBytes()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.ClosingToken));
        var banner = await client.ReadExactlyAsync(12, Timeout);
        var (status, reason) = await client.ReadUntilCloseAsync(Timeout);

        Assert.Equal("RFB 003.008\n", System.Text.Encoding.ASCII.GetString(banner));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Contains("target closed", reason, StringComparison.Ordinal);
        await AssertGoodSessionAsync();
    }

    [Fact]
    public async Task UnreachableTarget_ClosesWith1011AndReason()
    {
        await AssertClosedAsync(fixture.Node.WebSocketUri(SingleNodeFixture.DeadToken), WebSocketCloseStatus.InternalServerError, "refused");
    }

    [Fact]
    public async Task UnknownToken_ClosesWith4404AndReason()
    {
        await AssertClosedAsync(fixture.Node.WebSocketUri("no-such-token-1234"), (WebSocketCloseStatus)4404, "unknown console token");
    }

    [Fact]
    public async Task MissingToken_ClosesWith4400AndReason()
    {
        await AssertClosedAsync(fixture.Node.WebSocketUri(null), (WebSocketCloseStatus)4400, "missing console token");
    }

    [Fact]
    public async Task MalformedToken_ClosesWith4400AndReason()
    {
        await AssertClosedAsync(fixture.Node.WebSocketUri("bad token with spaces"), (WebSocketCloseStatus)4400, "malformed console token");
    }

    [Fact]
    public async Task TextFrame_ClosesWith1003()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken));
        await client.Socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var (status, reason) = await client.ReadUntilCloseAsync(Timeout);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, status);
        Assert.Contains("binary", reason, StringComparison.Ordinal);
        await AssertGoodSessionAsync();
    }

    [Fact]
    public async Task MessageOverTheCap_ClosesWith1009()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken));
        var reading = client.ReadUntilCloseAsync(Timeout);
        await client.SendAsync(new byte[65536 + 1]);
        var (status, reason) = await reading;

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        Assert.Contains("65536", reason, StringComparison.Ordinal);
        await AssertGoodSessionAsync();
    }

    [Fact]
    public async Task PlainHttpRequestOnRelayPath_Gets400WithExplanation()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(fixture.Node.HttpUri("/websockify?token=x"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WebSocket", body, StringComparison.Ordinal);
        await AssertGoodSessionAsync();
    }

    [Theory]
    [InlineData(new[] { "binary" }, "binary")]
    [InlineData(new[] { "base64", "binary" }, "binary")]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "base64" }, null)]
    public async Task Subprotocol_IsBinaryOnlyWhenOffered(string[] offered, string? expected)
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken), offered);
        Assert.Equal(expected, client.Socket.SubProtocol);
        await AssertEchoAsync(client);
    }

    [Fact]
    public async Task CrossSiteOrigin_IsRefusedBeforeTheUpgrade_SameOriginIsAccepted()
    {
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken), origin: "https://evil.example"));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);

        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken), origin: $"http://127.0.0.1:{fixture.Node.Port}");
        await AssertEchoAsync(client);
    }

    [Fact]
    public async Task TokenCookie_IsUsedWhenTheQueryHasNone()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(null), cookie: $"token={SingleNodeFixture.EchoToken}");
        await AssertEchoAsync(client);
    }

    [Fact]
    public async Task TokenFileRewrite_AddsNewTokensAndRemovesOldOnes()
    {
        await using var extra = TcpTarget.Echo();
        var newToken = "added-" + Guid.NewGuid().ToString("N")[..10];
        (string, string)[] fixed_ =
        [
            (SingleNodeFixture.EchoToken, $"127.0.0.1:{fixture.Echo.Port}"),
            (SingleNodeFixture.ClosingToken, $"127.0.0.1:{fixture.Closing.Port}"),
            (SingleNodeFixture.DeadToken, fixture.DeadTarget),
        ];
        TokenFiles.Rewrite(fixture.TokenFile, [.. fixed_, (newToken, $"127.0.0.1:{extra.Port}"), ("broken line without separator", "")]);
        await fixture.WaitForTokenAsync(newToken);
        await using (var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(newToken)))
        {
            await AssertEchoAsync(client);
        }

        // Every load logs "(... N lines skipped)", so only the line's own warning (file and line number) and a count of
        // one prove that the broken line was noticed: line 5 is the fifth entry written above.
        var brokenLine = $"Token file {fixture.TokenFile} line 5 skipped: expected 'TOKEN: HOST:PORT'";
        var counted = $"Token file {fixture.TokenFile}: 4 tokens (1 written, 0 removed, 1 lines skipped)";
        await Eventually.HoldsAsync(() => fixture.Node.Process.Output.Contains(brokenLine, StringComparison.Ordinal), Timeout,
            $"the node logs \"{brokenLine}\"");
        await Eventually.HoldsAsync(() => fixture.Node.Process.Output.Contains(counted, StringComparison.Ordinal), Timeout,
            $"the node logs \"{counted}\"");

        TokenFiles.Rewrite(fixture.TokenFile, fixed_);
        await Eventually.HoldsAsync(async () =>
        {
            await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(newToken));
            var (status, _) = await client.ReadUntilCloseAsync(Timeout);
            return status == (WebSocketCloseStatus)4404;
        }, Timeout, "the token dropped from the file is unknown");
        await AssertGoodSessionAsync();
    }

    private async Task AssertClosedAsync(Uri uri, WebSocketCloseStatus expectedStatus, string expectedReason)
    {
        await using (var client = await ConsoleClient.ConnectAsync(uri))
        {
            var (status, reason) = await client.ReadUntilCloseAsync(Timeout);
            Assert.Equal(expectedStatus, status);
            Assert.Contains(expectedReason, reason, StringComparison.Ordinal);
        }

        await AssertGoodSessionAsync();
    }

    private async Task AssertGoodSessionAsync()
    {
        await using var client = await ConsoleClient.ConnectAsync(fixture.Node.WebSocketUri(SingleNodeFixture.EchoToken));
        await AssertEchoAsync(client);
    }

    private static async Task AssertEchoAsync(ConsoleClient client)
    {
        var probe = RandomNumberGenerator.GetBytes(1000);
        await client.SendAsync(probe);
        var echoed = await client.ReadExactlyAsync(probe.Length, Timeout);
        Assert.Equal(probe, echoed);
    }
}
