using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Audit;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.IntegrationTests.Sync;
using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Testing;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>
/// Relay:StartupRehearsal: before /readyz says ready, the node relays sessions through its own listener, each with
/// messages both ways, until the JIT is quiet or that time has passed (so the JIT's promotions of the session path are
/// done before users arrive), and they leave nothing an operator or a user would see: no history record, no session
/// counter, no spent handshake rate of loopback.
/// </summary>
public sealed class StartupRehearsalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ANodeRehearsesBeforeReady_ThenItsHistoryCountersAndLimitsHoldOnlyTheUsersSession(bool tls)
    {
        await using var echo = TcpTarget.Echo();
        var directory = Repo.TempDirectory("rehearsal");
        var token = "rehearsal-test-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>
        {
            // At least 3 s of sessions, 16 at a time: more than a token's limit (10), and far more than a client's
            // handshake rate lets through in the rehearsal's time (4 s, then at most 10 s of grace) at one a second.
            ["Relay__StartupRehearsal"] = "00:00:04",
            ["Limits__HandshakesPerSecond"] = "1",
            ["Limits__HandshakeBurst"] = "1",
        };
        using var certificate = TestCertificates.CreateLeaf("relay-rehearsal");
        if (tls)
        {
            var (certificateFile, keyFile) = TestCertificates.WritePem(certificate, directory, "relay");
            environment["Relay__CertificateFile"] = certificateFile;
            environment["Relay__KeyFile"] = keyFile;
        }

        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "rehearsal-node",
            TokenFile = TokenFiles.Write(directory, [(token, $"127.0.0.1:{echo.Port}")]),
            Environment = environment,
        });

        // Ready means rehearsed, with more sessions than the limits allow (the rate at most 1 + 14; a fixed count, not a
        // rate: a TLS rehearsal on a busy machine relayed 40 in its 4 s). The node's output reaches this test through a
        // pipe that a busy machine may deliver after /readyz said 200 (the proof of 6bbf128 read it too early): the
        // line is awaited here, and its order before the user's session is checked below (the pipe keeps lines in
        // order).
        const string RehearsalLine = @"Start-up rehearsal: (\d+) sessions relayed through this node";
        await Eventually.HoldsAsync(() => Regex.IsMatch(node.Process.Output, RehearsalLine), TimeSpan.FromSeconds(10), "the rehearsal's line in the node's output");
        var rehearsed = Regex.Match(node.Process.Output, RehearsalLine);
        Assert.True(int.Parse(rehearsed.Groups[1].Value, CultureInfo.InvariantCulture) >= 16, rehearsed.Value);

        // A user's session from the same loopback address right away: the rehearsal spent none of its handshake rate.
        var uri = new Uri($"{(tls ? "wss" : "ws")}://127.0.0.1:{node.Port}/websockify?token={token}");
        var refusal = "none";
        await using (var user = await ConsoleClient.TryOpenEchoingAsync(uri, refused: r => refusal = r, configure: tls ? TrustAny : null))
        {
            Assert.True(user is not null, $"the user's first session after ready opens; it got: {refusal}");
        }

        var history = new List<AuditRecord>();
        await Eventually.HoldsAsync(async () =>
        {
            history = await AuditClusterFixture.HistoryAsync(node);
            return history.Count >= 1 && history.All(record => record.End is not null);
        }, Timeout, "the user's session is in the history, closed");
        Assert.Equal("127.0.0.1", Assert.Single(history).Client);

        var metrics = await PrometheusText.ScrapeAsync(node);
        Assert.Equal(1, metrics.Value("vnc_relay_sessions_started_total"));

        // The node logged its rehearsal's end before the user's session started: it was over before the node served.
        await Eventually.HoldsAsync(() => node.Process.Output.Contains(" started: client ", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "the user's session's line in the node's output");
        var log = node.Process.Output;
        Assert.True(log.IndexOf("Start-up rehearsal: ", StringComparison.Ordinal) < log.IndexOf(" started: client ", StringComparison.Ordinal),
            "the node logs its rehearsal's end before the user's session starts");
        output.WriteLine($"rehearsal ({(tls ? "wss" : "ws")}): {node.Process.Output.Split('\n').First(line => line.Contains("Start-up rehearsal", StringComparison.Ordinal)).Trim()}");
    }

    [Fact]
    public async Task AsShippedWithLimitsAndARelayThatSpeaksRfb_TheRehearsalStillRuns_TheUsersTicketOpens_APlainTokenDoesNot()
    {
        // The user's VNC server on 127.0.0.2, the only network the target policy allows: the rehearsal's own server is on
        // 127.0.0.1, outside it.
        var userAddress = IPAddress.Parse("127.0.0.2");
        await using var server = new RecordingRfbServer(userAddress);
        var directory = Repo.TempDirectory("rehearsal-shipped");
        var token = "rehearsal-shipped-" + Guid.NewGuid().ToString("N")[..8];
        var secret = Path.Combine(directory, "ticket-secret");
        await File.WriteAllTextAsync(secret, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "rehearsal-shipped",
            TokenFile = TokenFiles.Write(directory, [(token, $"{userAddress}:{server.Port}")]),
            // Every setting the shipped file makes (tickets only, among them); the node's addresses and ports are the
            // test's (RelayNodeProcess), and its ticket secret is the file written above.
            Environment = new Dictionary<string, string?>(ShippedSettings())
            {
                ["Tickets__SecretFile"] = secret,
                // Shorter than shipped (00:00:30, checked by ConfigurationDocTests), to keep the suite short.
                ["Relay__StartupRehearsal"] = "00:00:04",
                // Settings an operator may add. No clipboard: the relay logs in to the VNC server itself and parses both
                // directions of every session.
                ["Vnc__Clipboard"] = "none",
                ["Limits__AllowedTargetNetworks__0"] = "127.0.0.2/32",
                // Fewer sessions a client than the rehearsal's 16 at a time from one address.
                ["Limits__MaxSessionsPerClient"] = "2",
            },
        });
        Assert.Equal("false", node.Settings.Environment["Tokens__AcceptPlainTokens"]);

        var rehearsed = Regex.Match(node.Process.Output, @"Start-up rehearsal: (\d+) sessions relayed through this node");
        Assert.True(rehearsed.Success, "the rehearsal's line is in the node's output before it is ready; it has: "
            + string.Join(" | ", node.Process.Output.Split('\n').Where(line => line.Contains("rehearsal", StringComparison.OrdinalIgnoreCase))));
        Assert.True(int.Parse(rehearsed.Groups[1].Value, CultureInfo.InvariantCulture) >= 48, rehearsed.Value);
        Assert.DoesNotContain("Start-up rehearsal stopped", node.Process.Output, StringComparison.Ordinal);

        // The user's ticket opens the console the relay logged in to, and input reaches the VNC server.
        var answer = await TicketConsole.IssueAsync(node, new { token });
        await using var client = await TicketConsole.OpenAsync(node, answer.GetProperty("ticket").GetString(), Timeout);
        byte[] keyAndUpdate = [4, 1, 0, 0, 0, 0, 0, (byte)'a', 3, 0, 0, 0, 0, 0, 0, 64, 0, 48];
        await client.SendAsync(keyAndUpdate);
        await server.WaitForSuffixAsync(keyAndUpdate, Timeout);
        Assert.Equal(keyAndUpdate, server.Received);
        output.WriteLine($"rehearsal (as shipped): {rehearsed.Value}");

        // As shipped, a plain token opens nothing: the rehearsal did not open that door for anyone else.
        await using var plain = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), ["binary"]);
        var (status, reason) = await plain.ReadUntilCloseAsync(Timeout);
        Assert.Equal((WebSocketCloseStatus?)4426, status);
        output.WriteLine($"plain token: {(int?)status} {reason}");
    }

    [Fact]
    public async Task ANodeWithAnAbiquoSource_AlsoRehearsesASyncsLoad_AndItsFirstSyncHoldsOnlyAbiquosTokens()
    {
        await using var target = TcpTarget.Echo();
        await using var simulator = await SimulatorProcess.StartAsync(target.Port);
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "rehearsal-abiquo",
            Environment = new()
            {
                ["Abiquo__ApiUrl"] = simulator.ApiUrl,
                ["Abiquo__User"] = SimulatorProcess.User,
                ["Abiquo__PasswordFile"] = simulator.PasswordFile,
                ["Relay__StartupRehearsal"] = "00:00:04",
            },
        });

        // Ready means rehearsed: the sessions and, beside them, whole made-up inventories read, built and planned.
        var rehearsed = Regex.Match(node.Process.Output,
            @"Start-up rehearsal: (\d+) sessions relayed through this node, (\d+) made-up Abiquo inventories loaded");
        Assert.True(rehearsed.Success, "the rehearsal's line is in the node's output before it is ready; it has: "
            + string.Join(" | ", node.Process.Output.Split('\n').Where(line => line.Contains("rehearsal", StringComparison.OrdinalIgnoreCase))));
        Assert.True(int.Parse(rehearsed.Groups[2].Value, CultureInfo.InvariantCulture) >= 1, rehearsed.Value);
        Assert.DoesNotContain("Start-up rehearsal stopped", node.Process.Output, StringComparison.Ordinal);

        // The made-up VMs (3,600 of them) never reached the table: the sync publishes Abiquo's one VM, and its console opens.
        using var admin = node.AdminClient();
        using var synced = await admin.PostAsync("/api/sync", null);
        var body = await synced.Content.ReadAsStringAsync();
        Assert.True(synced.IsSuccessStatusCode, body);
        Assert.Contains("\"tokens\":1", body, StringComparison.Ordinal);
        await using (await ConsoleClient.OpenEchoingAsync(node, SimulatorProcess.TokenOf(target.Port)))
        {
        }

        output.WriteLine(rehearsed.Value);
    }

    /// <summary>deploy/env/vnc-relay.env.example's settings (<see cref="ShippedEnvironment"/>), which deploy/install.sh installs.</summary>
    private static Dictionary<string, string?> ShippedSettings()
    {
        var settings = ShippedEnvironment.Read(Repo.Root).ToDictionary(setting => setting.Key, string? (setting) => setting.Value, StringComparer.Ordinal);
        Assert.True(settings.Count >= 10, $"the shipped file's settings were read: {settings.Count}");
        return settings;
    }

    [Fact]
    public async Task ANodeAloneInItsCluster_TellsHaproxyReady_WhileItsRehearsalRuns()
    {
        // A single-node site: HAProxy has no other server, so "drain" would mean 503 for every user until it is over.
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "rehearsal-alone",
            Environment = { ["Relay__StartupRehearsal"] = "00:00:05" },
        }, waitReady: false);

        var answers = await AgentAnswersWhileWarmingUpAsync(node);

        var first = answers.IndexOf("ready");
        Assert.True(first >= 0, $"the agent said ready while /readyz said warming up; it said: {string.Join(", ", answers)}");
        Assert.All(answers.Skip(first), answer => Assert.Equal("ready", answer));
    }

    [Fact]
    public async Task ANodeJoiningANodeThatServes_TellsHaproxyDrain_UntilItsRehearsalIsOver()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var serving = await RelayNodeProcess.StartAsync(new RelayNodeSettings { SiloName = "rehearsal-serving", RedisConnectionString = redis.ConnectionString });
        await using var joining = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "rehearsal-joining",
            RedisConnectionString = redis.ConnectionString,
            Environment = { ["Relay__StartupRehearsal"] = "00:00:05" },
        }, waitReady: false);

        var answers = await AgentAnswersWhileWarmingUpAsync(joining);

        // The rehearsal runs for 3 s at least, asked every 200 ms.
        Assert.True(answers.Count >= 5, $"the agent was asked while /readyz said warming up; it said: {string.Join(", ", answers)}");
        Assert.All(answers, answer => Assert.Equal("drain", answer));
        Assert.StartsWith("ready", await joining.AskAgentAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// What the node's HAProxy agent answered (its first word: "ready" carries the node's maxconn), every 200 ms, while
    /// /readyz said "warming up" (the start-up rehearsal, then the start's collection), until /readyz says ready. An
    /// answer counts only when /readyz, asked after it, still said warming up: the start never goes back, so the answer
    /// came while it ran.
    /// </summary>
    private static async Task<List<string>> AgentAnswersWhileWarmingUpAsync(RelayNodeProcess node)
    {
        var answers = new List<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, $"node {node.Settings.SiloName} was ready within 90 s; the agent said: {string.Join(", ", answers)}");
            Assert.False(node.Process.HasExited, $"node {node.Settings.SiloName} exited:\n{node.Process.Tail()}");
            string? answer;
            try
            {
                answer = (await node.AskAgentAsync()).Split(' ')[0];
            }
            catch (Exception exception) when (exception is System.Net.Sockets.SocketException or IOException)
            {
                answer = null; // not listening yet
            }

            try
            {
                using var response = await http.GetAsync(node.AdminUri("/readyz"));
                if (response.IsSuccessStatusCode)
                {
                    return answers;
                }

                if (answer is not null && (await response.Content.ReadAsStringAsync()).Contains("warming up", StringComparison.Ordinal))
                {
                    answers.Add(answer);
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }
    }

    private static void TrustAny(ClientWebSocketOptions options) => options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
}
