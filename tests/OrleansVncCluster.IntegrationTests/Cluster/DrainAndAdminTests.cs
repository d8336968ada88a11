using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>The node's contract with HAProxy and operators: agent answers, drain, SIGTERM, metrics, the admin API.</summary>
public sealed class DrainAndAdminTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task<(RelayNodeProcess Node, TcpTarget Echo, string Token)> StartAsync(string name, Dictionary<string, string?>? environment = null)
    {
        var echo = TcpTarget.Echo();
        var token = "drain-" + Guid.NewGuid().ToString("N")[..10];
        var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(Repo.TempDirectory(name), (token, $"127.0.0.1:{echo.Port}")),
            SiloName = name,
            Environment = environment ?? [],
        });
        return (node, echo, token);
    }


    [Fact]
    public async Task DrainThroughAdminApi_AgentSaysDrain_LiveSessionContinues_NewSessionsRefused_ThenClosedWith1012()
    {
        var (node, echo, token) = await StartAsync("drain", new() { ["Relay__DrainBudget"] = "00:00:04" });
        await using var _ = node;
        await using var __ = echo;
        Assert.StartsWith("ready maxconn:", await node.AskAgentAsync(), StringComparison.Ordinal);
        await using var live = await ConsoleClient.OpenEchoingAsync(node, token);

        using var admin = node.AdminClient();
        using (var response = await admin.PostAsync("/api/drain", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        Assert.Equal("drain", await node.AskAgentAsync());
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(node.AdminUri("/healthz"))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(node.AdminUri("/readyz"))).StatusCode);

        await live.SendAsync(new byte[] { 9 });
        Assert.Equal([9], await live.ReadExactlyAsync(1, Timeout));

        await using (var refused = await ConsoleClient.ConnectAsync(node.WebSocketUri(token)))
        {
            var (status, reason) = await refused.ReadUntilCloseAsync(Timeout);
            Assert.Equal((WebSocketCloseStatus)1013, status);
            Assert.Contains("draining", reason, StringComparison.Ordinal);
        }

        var (closeStatus, closeReason) = await live.ReadUntilCloseAsync(Timeout);
        Assert.Equal((WebSocketCloseStatus)1012, closeStatus);
        Assert.Contains("reconnect", closeReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainCommand_ReadsTheTokenFromAFile_AndDrainsTheNode()
    {
        var (node, echo, _) = await StartAsync("drain-command");
        await using var _ = node;
        await using var __ = echo;
        var tokenFile = Path.Combine(Repo.TempDirectory("drain-command"), "admin-token");
        await File.WriteAllTextAsync(tokenFile, RelayNodeProcess.AdminToken + "\n");

        var refused = await Deploy.DeployCommands.RunAsync("drain-wrong", Repo.RelayExecutable, ["drain", "--admin", $"127.0.0.1:{node.AdminPort}"],
            new Dictionary<string, string?> { ["Admin__Token"] = "not-the-token", ["Admin__TokenFile"] = null, ["CREDENTIALS_DIRECTORY"] = null });
        Assert.True(refused.ExitCode == 1, $"a wrong token must fail the command:\n{refused.Output}");
        Assert.Contains("401", refused.Output);
        Assert.StartsWith("ready maxconn:", await node.AskAgentAsync(), StringComparison.Ordinal);

        var drained = await Deploy.DeployCommands.RunAsync("drain", Repo.RelayExecutable, ["drain"],
            new Dictionary<string, string?> { ["Relay__AdminListen"] = $"0.0.0.0:{node.AdminPort}", ["Admin__TokenFile"] = tokenFile, ["CREDENTIALS_DIRECTORY"] = null });
        Assert.True(drained.ExitCode == 0, $"vnc-relay drain failed:\n{drained.Output}");
        Assert.DoesNotContain(RelayNodeProcess.AdminToken, drained.Output);
        Assert.Equal("drain", await node.AskAgentAsync());
    }

    [Fact]
    public async Task Sigterm_DrainsThenExitsWithinTheBudget()
    {
        var (node, echo, token) = await StartAsync("sigterm", new() { ["Relay__DrainBudget"] = "00:00:03" });
        await using var _ = node;
        await using var __ = echo;
        await using var live = await ConsoleClient.OpenEchoingAsync(node, token);

        node.Process.Signal("TERM");
        var (status, _) = await live.ReadUntilCloseAsync(Timeout);

        Assert.Equal((WebSocketCloseStatus)1012, status);
        Assert.True(await node.Process.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the node exits after its drain budget");
        Assert.Equal(0, node.Process.ExitCode);
    }

    [Fact]
    public async Task AdminApi_RequiresTheToken_ListsLiveSessions_AndClosesOneById()
    {
        var (node, echo, token) = await StartAsync("admin");
        await using var _ = node;
        await using var __ = echo;
        await using var live = await ConsoleClient.OpenEchoingAsync(node, token);
        using var anonymous = new HttpClient();
        using var admin = node.AdminClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(node.AdminUri("/api/sessions"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(node.HttpUri("/api/sessions"))).StatusCode);

        JsonElement session = default;
        await Eventually.HoldsAsync(async () =>
        {
            var list = await admin.GetFromJsonAsync<JsonElement>("/api/sessions");
            var sessions = list.GetProperty("sessions").EnumerateArray().ToList();
            if (sessions.Count != 1)
            {
                return false;
            }

            session = sessions[0];
            return true;
        }, Timeout, "the admin API lists the one live session");
        Assert.Equal("admin", session.GetProperty("node").GetString());
        Assert.DoesNotContain(token, session.GetRawText(), StringComparison.Ordinal);

        var id = session.GetProperty("id").GetString();
        using (var response = await admin.DeleteAsync($"/api/sessions/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var (status, reason) = await live.ReadUntilCloseAsync(Timeout);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("administrator", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountSessionsAndRefusalsInPrometheusFormat()
    {
        var (node, echo, token) = await StartAsync("metrics");
        await using var _ = node;
        await using var __ = echo;
        await using (var live = await ConsoleClient.OpenEchoingAsync(node, token))
        {
            Assert.Equal(1, (await PrometheusText.ScrapeAsync(node)).Value("vnc_relay_active_sessions"));
        }

        // Opening the live session polled until the token file had loaded (each early poll an unknown token): count
        // from here.
        var unknownBefore = (await PrometheusText.ScrapeAsync(node)).Value("vnc_relay_sessions_failed_total{reason=\"unknown_token\"}");
        await using (var unknown = await ConsoleClient.ConnectAsync(node.WebSocketUri("nope-nope-nope")))
        {
            await unknown.ReadUntilCloseAsync(Timeout);
        }

        await Eventually.HoldsAsync(async () =>
        {
            var metrics = await PrometheusText.ScrapeAsync(node);
            return metrics.Value("vnc_relay_sessions_failed_total{reason=\"unknown_token\"}") == unknownBefore + 1
                && metrics.Value("vnc_relay_active_sessions") == 0
                && metrics.Value("vnc_relay_sessions_ended_total") == 1
                && metrics.Samples.Where(s => s.Name == "vnc_relay_sessions_ended_total").All(s => s.Labels["outcome"] is "client_closed" or "client_failed");
        }, Timeout, "metrics show the refused unknown token, no live session, and one ended session with a snake_case outcome");
    }
}
