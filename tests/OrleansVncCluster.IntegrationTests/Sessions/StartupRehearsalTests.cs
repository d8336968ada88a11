using System.Globalization;
using System.Text.RegularExpressions;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Audit;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.Relay.Audit;

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
            // At least 3 s of sessions, 16 at a time: more than loopback's handshake burst (30) and a token's limit (10).
            ["Relay__StartupRehearsal"] = "00:00:04",
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

        // Ready means rehearsed: the line is there before /readyz said 200, with more sessions than the limits allow.
        var rehearsed = Regex.Match(node.Process.Output, @"Start-up rehearsal: (\d+) sessions relayed through this node");
        Assert.True(rehearsed.Success, "the rehearsal's line is in the node's output before it is ready");
        Assert.True(int.Parse(rehearsed.Groups[1].Value, CultureInfo.InvariantCulture) >= 48, rehearsed.Value);

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
        output.WriteLine($"rehearsal ({(tls ? "wss" : "ws")}): {node.Process.Output.Split('\n').First(line => line.Contains("Start-up rehearsal", StringComparison.Ordinal)).Trim()}");
    }

    private static void TrustAny(ClientWebSocketOptions options) => options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
}
