using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Limits;

/// <summary>
/// Two node processes on one redis-server with small limits, and a token file with one token per case. Each test uses
/// its own 127.0.0.x client addresses and its own tokens, so the per-address and per-token counts never mix.
/// </summary>
public sealed class LimitsClusterFixture : IAsyncLifetime
{
    public const int MaxPerClient = 2;
    public const int MaxPerToken = 2;
    public const int MaxFailedTokens = 3;
    public const int MaxSessionsPerNode = 4;
    public const int HandshakesPerSecond = 1;
    public const int HandshakeBurst = 10;

    private RedisServer? _redis;
    private TcpTarget? _echo;

    public RelayNodeProcess NodeA { get; private set; } = null!;
    public RelayNodeProcess NodeB { get; private set; } = null!;
    public Dictionary<string, string> Tokens { get; } = [];

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _echo = TcpTarget.Echo();
        var siloA = Ports.Free();
        var echo = $"127.0.0.1:{_echo.Port}";
        foreach (var name in new[] { "client", "token", "full-1", "full-2", "full-3", "rate", "good" })
        {
            Tokens[name] = $"limits-{name}-" + Guid.NewGuid().ToString("N")[..10];
        }

        Tokens["disallowed"] = "limits-disallowed-" + Guid.NewGuid().ToString("N")[..10];
        Tokens["silo"] = "limits-silo-" + Guid.NewGuid().ToString("N")[..10];
        var entries = Tokens.Select(pair => (pair.Value, pair.Key switch
        {
            // 127.0.0.2 is outside the allow-list; node A's silo port is inside it but is the cluster's own endpoint.
            "disallowed" => $"127.0.0.2:{_echo.Port}",
            "silo" => $"127.0.0.1:{siloA}",
            _ => echo,
        })).ToArray();
        var tokenFile = TokenFiles.Write(Repo.TempDirectory("limits"), entries);
        var cluster = "limits-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>
        {
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Relay__MaxSessions"] = MaxSessionsPerNode.ToString(CultureInfo.InvariantCulture),
            ["Limits__MaxSessionsPerClient"] = MaxPerClient.ToString(CultureInfo.InvariantCulture),
            ["Limits__MaxSessionsPerToken"] = MaxPerToken.ToString(CultureInfo.InvariantCulture),
            ["Limits__HandshakesPerSecond"] = HandshakesPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Limits__HandshakeBurst"] = HandshakeBurst.ToString(CultureInfo.InvariantCulture),
            ["Limits__MaxFailedTokens"] = MaxFailedTokens.ToString(CultureInfo.InvariantCulture),
            ["Limits__FailedTokenWindow"] = "00:10:00",
            ["Limits__AllowedTargetNetworks__0"] = "127.0.0.1/32",
        };
        NodeA = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = _redis.ConnectionString,
            TokenFile = tokenFile,
            SiloName = "limits-a",
            Environment = new(environment),
        }, siloPort: siloA);
        NodeB = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = _redis.ConnectionString,
            SiloName = "limits-b",
            Environment = new(environment),
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (NodeB is not null)
        {
            await NodeB.DisposeAsync();
        }

        if (NodeA is not null)
        {
            await NodeA.DisposeAsync();
        }

        if (_echo is not null)
        {
            await _echo.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

public sealed class LimitsAcrossNodesTests(LimitsClusterFixture fixture) : IClassFixture<LimitsClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static IPAddress Client(int last) => IPAddress.Parse($"127.0.0.{last}");

    [Fact]
    public async Task SessionsPerClient_AreCountedAcrossBothNodes_AndClosingOneFreesASlot()
    {
        var client = Client(21);
        var token = fixture.Tokens["client"];
        await using var onA = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token, client);
        await using var onB = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.Tokens["good"], client);

        var refused = await RefusalAsync(fixture.NodeA, token, client);
        var otherClient = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token, Client(22));
        await otherClient.DisposeAsync();
        await onB.DisposeAsync();
        await using var again = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.Tokens["good"], client);

        Assert.Equal(((WebSocketCloseStatus)4429, "too many consoles open from your address: close one and try again"), refused);
    }

    [Fact]
    public async Task SessionsPerToken_AreCountedAcrossBothNodes_AndClosingOneFreesASlot()
    {
        var token = fixture.Tokens["token"];
        await using var onA = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token, Client(31));
        var onB = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, token, Client(32));

        var refusedOnA = await RefusalAsync(fixture.NodeA, token, Client(33));
        var refusedOnB = await RefusalAsync(fixture.NodeB, token, Client(34));
        await onB.DisposeAsync();
        await using var again = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token, Client(33));

        var expected = ((WebSocketCloseStatus)4429, "too many consoles open for this VM: close one and try again");
        Assert.Equal(expected, refusedOnA);
        Assert.Equal(expected, refusedOnB);
    }

    [Fact]
    public async Task HandshakesPerSecond_AreLimitedPerClientAddress_WithTheReasonVisible()
    {
        // All attempts at once, so the outcome does not depend on how fast this machine opens sessions one by one: the
        // bucket holds HandshakeBurst and gains HandshakesPerSecond each second, so however long the attempts take to
        // arrive (measured), at most burst + rate x (elapsed + 1 s) of them pass the rate check; the rest are refused with
        // the rate's reason. Attempts that pass may still be refused for other limits (two consoles per address), which
        // is not what this test counts.
        const int attempts = 3 * LimitsClusterFixture.HandshakeBurst;
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, attempts).Select(_ => FirstAnswerAsync(fixture.NodeB, fixture.Tokens["rate"], Client(41))));
        elapsed.Stop();
        try
        {
            var rateRefusals = outcomes.Where(o => o.Reason?.StartsWith(CloseReasonHandshakeRate, StringComparison.Ordinal) == true).ToList();
            var passed = attempts - rateRefusals.Count;
            var allowed = LimitsClusterFixture.HandshakeBurst + (int)Math.Ceiling(elapsed.Elapsed.TotalSeconds + 1) * LimitsClusterFixture.HandshakesPerSecond;
            var seen = string.Join(", ", outcomes.GroupBy(o => $"{(int?)o.Status} {o.Reason}").Select(g => $"{g.Count()} x '{g.Key}'"));
            TestContext.Current.TestOutputHelper?.WriteLine($"{attempts} attempts in {elapsed.ElapsedMilliseconds} ms: {passed} passed the rate check, at most {allowed} may; {seen}");

            Assert.True(rateRefusals.Count > 0, $"none of {attempts} simultaneous attempts (in {elapsed.ElapsedMilliseconds} ms) was refused for the handshake rate: {seen}");
            Assert.True(passed <= allowed, $"{passed} of {attempts} attempts in {elapsed.ElapsedMilliseconds} ms passed the rate check, more than the {allowed} the bucket allows: {seen}");
            Assert.All(rateRefusals, refusal => Assert.Equal((WebSocketCloseStatus)4429, refusal.Status));
            Assert.All(rateRefusals, refusal => Assert.Matches(@"^too many connection attempts from your address: retry in \d+ s$", refusal.Reason));
        }
        finally
        {
            foreach (var (_, _, open) in outcomes)
            {
                if (open is not null)
                {
                    await open.DisposeAsync();
                }
            }
        }

        await using var unaffected = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.Tokens["rate"], Client(42));
    }

    private const string CloseReasonHandshakeRate = "too many connection attempts from your address";

    /// <summary>
    /// Opens a session and reads its first answer within a deadline: a close (its code and reason), or the echo of a
    /// probe (the session is open and returned, for the caller to close).
    /// </summary>
    private static async Task<(WebSocketCloseStatus? Status, string? Reason, ConsoleClient? Open)> FirstAnswerAsync(RelayNodeProcess node, string token, IPAddress source)
    {
        var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), source: source);
        try
        {
            await client.SendAsync(new byte[16]);
            using var deadline = new CancellationTokenSource(Timeout);
            WebSocketReceiveResult received;
            try
            {
                received = await client.Socket.ReceiveAsync(new byte[64], deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"a session from {source} was neither closed nor echoed within {Timeout.TotalSeconds:F0} s");
            }

            if (received.MessageType == WebSocketMessageType.Close)
            {
                var answer = (client.Socket.CloseStatus, client.Socket.CloseStatusDescription);
                await client.DisposeAsync();
                return (answer.CloseStatus, answer.CloseStatusDescription, null);
            }

            return (null, null, client);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task FailedTokens_LockTheAddressOut_EvenForAGoodToken_WithoutALookup()
    {
        var guesser = Client(51);
        var answers = new List<(WebSocketCloseStatus?, string?)>();
        for (var i = 0; i < LimitsClusterFixture.MaxFailedTokens; i++)
        {
            answers.Add(await RefusalAsync(fixture.NodeA, "guess-" + Guid.NewGuid().ToString("N"), guesser));
        }

        var lookupsBefore = await MetricAsync(fixture.NodeA, "vnc_relay_token_lookups_total{result=\"grain\"}");
        var locked = await RefusalAsync(fixture.NodeA, fixture.Tokens["good"], guesser);
        var lookupsAfter = await MetricAsync(fixture.NodeA, "vnc_relay_token_lookups_total{result=\"grain\"}");

        Assert.All(answers, answer => Assert.Equal(((WebSocketCloseStatus)4404, "unknown console token"), answer));
        Assert.Equal((WebSocketCloseStatus)4429, locked.Status);
        Assert.StartsWith("too many invalid console tokens from your address: retry in ", locked.Reason, StringComparison.Ordinal);
        Assert.Equal(lookupsBefore, lookupsAfter);
        Assert.Equal(1, await MetricAsync(fixture.NodeA, "vnc_relay_sessions_failed_total{reason=\"failed_token_rate\"}"));
        await Eventually.HoldsAsync(() => fixture.NodeA.Process.Output.Contains("Client 127.0.0.51 presented 3 bad console tokens", StringComparison.Ordinal),
            Timeout, "node A logs one warning for the locked-out address");
    }

    [Fact]
    public async Task TargetsOutsideTheAllowList_AndClusterEndpoints_AreRefusedBeforeDialling()
    {
        var outside = await RefusalAsync(fixture.NodeA, fixture.Tokens["disallowed"], Client(61));
        var siloOfA = await RefusalAsync(fixture.NodeB, fixture.Tokens["silo"], Client(62));

        Assert.Equal(((WebSocketCloseStatus)4403, "console target address is not allowed by this relay"), outside);
        Assert.Equal(((WebSocketCloseStatus)4403, "console target address is not allowed by this relay: own endpoint of the cluster"), siloOfA);
        Assert.Equal(1, await MetricAsync(fixture.NodeA, "vnc_relay_sessions_failed_total{reason=\"target_not_allowed\"}"));
        Assert.Equal(1, await MetricAsync(fixture.NodeB, "vnc_relay_sessions_failed_total{reason=\"target_own_endpoint\"}"));
    }

    [Fact]
    public async Task SessionsPerNode_AreCapped_AndTheAgentReportsMaxconn()
    {
        var open = new List<ConsoleClient>();
        try
        {
            var tokens = new[] { "full-1", "full-1", "full-2", "full-2" };
            for (var i = 0; i < LimitsClusterFixture.MaxSessionsPerNode; i++)
            {
                open.Add(await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.Tokens[tokens[i]], Client(71 + i)));
            }

            var refused = await RefusalAsync(fixture.NodeB, fixture.Tokens["full-3"], Client(79));

            Assert.Equal(((WebSocketCloseStatus)4429, "relay node is full: try again shortly"), refused);
            Assert.Equal($"ready maxconn:{LimitsClusterFixture.MaxSessionsPerNode}", await fixture.NodeB.AskAgentAsync());
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<(WebSocketCloseStatus? Status, string? Reason)> RefusalAsync(RelayNodeProcess node, string token, IPAddress source)
    {
        await using var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), source: source);
        return await client.ReadUntilCloseAsync(Timeout);
    }

    private static async Task<long> MetricAsync(RelayNodeProcess node, string series) =>
        (long)(await PrometheusText.ScrapeAsync(node)).Value(series);
}
