using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Deploy;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Cli;

/// <summary>
/// Two nodes on one redis-server, syncing from the Abiquo simulator and reading a token file, for the admin commands
/// run as the published binary, the way an operator runs them on a node's host.
/// </summary>
public sealed class AdminCommandLineFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;
    public TcpTarget Echo { get; private set; } = null!;
    public SimulatorProcess Simulator { get; private set; } = null!;
    public RelayNodeProcess NodeA { get; private set; } = null!;
    public RelayNodeProcess NodeB { get; private set; } = null!;
    public string TokenFile { get; private set; } = null!;
    public string AdminTokenFile { get; private set; } = null!;

    /// <summary>Tokens of the token file, each for one test (a revoked or killed one is not reused).</summary>
    public string KillToken { get; } = "cli-kill-" + Guid.NewGuid().ToString("N")[..10];
    public string RevokeToken { get; } = "cli-revoke-" + Guid.NewGuid().ToString("N")[..10];
    public string StatusToken { get; } = "cli-status-" + Guid.NewGuid().ToString("N")[..10];
    public string HistoryToken { get; } = "cli-history-" + Guid.NewGuid().ToString("N")[..10];

    public (string Token, string Target)[] FileEntries =>
        [(KillToken, $"127.0.0.1:{Echo.Port}"), (RevokeToken, $"127.0.0.1:{Echo.Port}"), (StatusToken, $"127.0.0.1:{Echo.Port}"), (HistoryToken, $"127.0.0.1:{Echo.Port}")];

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Echo = TcpTarget.Echo();
        Simulator = await SimulatorProcess.StartAsync(Echo.Port);
        var directory = Repo.TempDirectory("admin-cli");
        TokenFile = TokenFiles.Write(directory, FileEntries);
        AdminTokenFile = Path.Combine(directory, "admin-token");
        await File.WriteAllTextAsync(AdminTokenFile, RelayNodeProcess.AdminToken + "\n");
        var cluster = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string?>(Simulator.NodeEnvironment())
        {
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Sync__Interval"] = "00:01:00",
            // Long enough for three CLI runs (drain, status, undrain: a process start each, 1-3 s apiece on a loaded
            // machine) to fit inside it: with 2 s, a CI run's undrain came after the budget had closed the session.
            ["Relay__DrainBudget"] = "00:00:12",
        };
        NodeA = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = Redis.ConnectionString, SiloName = "cli-a", TokenFile = TokenFile, Environment = new(environment),
        });
        NodeB = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            RedisConnectionString = Redis.ConnectionString, SiloName = "cli-b", TokenFile = TokenFile, Environment = new(environment),
        });
    }

    /// <summary>Runs <c>vnc-relay ARGS</c> as an operator on node A's host: the admin listener and token from the environment.</summary>
    public Task<CommandResult> RunAsync(params string[] args) => RunAsync(NodeA, args);

    /// <summary>Runs <c>vnc-relay ARGS</c> against <paramref name="node"/>.</summary>
    public Task<CommandResult> RunAsync(RelayNodeProcess node, params string[] args) =>
        DeployCommands.RunAsync("vnc-relay-" + args.FirstOrDefault(), Repo.RelayExecutable, args, new Dictionary<string, string?>
        {
            ["Relay__AdminListen"] = $"0.0.0.0:{node.AdminPort}",
            ["Admin__TokenFile"] = AdminTokenFile,
            ["Admin__Token"] = null,
            ["CREDENTIALS_DIRECTORY"] = null,
        });

    /// <summary>The environment <c>vnc-relay check</c> reads, as the nodes were started with, plus <paramref name="changes"/>.</summary>
    public Dictionary<string, string?> CheckEnvironment(params (string Key, string? Value)[] changes)
    {
        var environment = new Dictionary<string, string?>(Simulator.NodeEnvironment())
        {
            ["Redis__ConnectionString"] = Redis.ConnectionString,
            ["Admin__TokenFile"] = AdminTokenFile,
            ["Tokens__Files__0"] = TokenFile,
            ["Relay__AdminListen"] = null,
            ["CREDENTIALS_DIRECTORY"] = null,
        };
        foreach (var (key, value) in changes)
        {
            environment[key] = value;
        }

        return environment;
    }

    public async ValueTask DisposeAsync()
    {
        await NodeB.DisposeAsync();
        await NodeA.DisposeAsync();
        await Simulator.DisposeAsync();
        await Echo.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

/// <summary>
/// The admin command line (issue 15, item 2) run for real: the published <c>vnc-relay</c> binary against two live
/// nodes, each command checked by what it does to the cluster (a session closes, a token is refused, the agent says
/// drain) and by what it prints.
/// </summary>
public sealed class AdminCommandLineTests(AdminCommandLineFixture fixture) : IClassFixture<AdminCommandLineFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Status_ShowsHealthReadiness_BothNodes_TheirSessions_AndTheSync()
    {
        await using var live = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.StatusToken);

        var status = await fixture.RunAsync("status");

        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("health     ok", status.Output, StringComparison.Ordinal);
        Assert.Contains("ready      yes", status.Output, StringComparison.Ordinal);
        Assert.Contains("draining   no", status.Output, StringComparison.Ordinal);
        Assert.Contains("cluster    2 node(s): cli-a, cli-b", status.Output, StringComparison.Ordinal);
        Assert.Matches(@"sessions +[1-9]\d* \(.*cli-b [1-9]", status.Output);
        Assert.Matches(@"token sync last success \d{4}-\d\d-\d\d", status.Output);
        Assert.DoesNotContain(RelayNodeProcess.AdminToken, status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_ListsTheSessionOnTheOtherNode_AndKillClosesIt()
    {
        await using var live = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.KillToken);

        var listed = await fixture.RunAsync("sessions", "--json");
        Assert.True(listed.ExitCode == 0, listed.Output);
        var session = JsonDocument.Parse(listed.Output).RootElement.GetProperty("sessions").EnumerateArray()
            .Single(s => s.GetProperty("node").GetString() == "cli-b" && fixture.KillToken.StartsWith(s.GetProperty("tokenPrefix").GetString()!.TrimEnd('…'), StringComparison.Ordinal));
        var id = session.GetProperty("id").GetString()!;
        var table = await fixture.RunAsync("sessions");
        Assert.Contains(table.Output.Split('\n'), line => line.StartsWith(id, StringComparison.Ordinal) && line.Contains("cli-b", StringComparison.Ordinal));

        var killed = await fixture.RunAsync("kill", id);

        Assert.True(killed.ExitCode == 0, killed.Output);
        Assert.Contains($"session {id} closed", killed.Output, StringComparison.Ordinal);
        var (status, reason) = await live.ReadUntilCloseAsync(Timeout);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("administrator", reason, StringComparison.Ordinal);
        var again = await fixture.RunAsync("kill", id);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"no live session {id}", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_OnNodeA_ShowsASessionNodeBCarried_WithHowItEnded()
    {
        var id = await SessionIdAsync(fixture.HistoryToken, async live =>
        {
            Assert.True(await live.EchoesAsync());
            await live.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done with it", TestContext.Current.CancellationToken);
        });

        JsonElement record = default;
        await Eventually.HoldsAsync(async () =>
        {
            var history = await fixture.RunAsync("history", "--client", "127.0.0.1", "--since", "10m", "--json");
            Assert.True(history.ExitCode == 0, history.Output);
            record = JsonDocument.Parse(history.Output).RootElement.EnumerateArray().FirstOrDefault(r => r.GetProperty("id").GetString() == id);
            return record.ValueKind == JsonValueKind.Object && record.GetProperty("end").ValueKind == JsonValueKind.String;
        }, Timeout, $"session {id} is in the history, closed");

        Assert.Equal("cli-b", record.GetProperty("node").GetString());
        Assert.Equal(1000, record.GetProperty("closeCode").GetInt32());
        Assert.Equal("done with it", record.GetProperty("closeReason").GetString());
        Assert.True(record.GetProperty("bytesToVm").GetInt64() >= 256, record.ToString());
        var table = await fixture.RunAsync("history", "--since", "10m");
        Assert.Contains(table.Output.Split('\n'), line => line.Contains("cli-b", StringComparison.Ordinal) && line.Contains("1000 done with it", StringComparison.Ordinal));
    }

    /// <summary>Opens a session on node B with <paramref name="token"/>, reads its id with <c>vnc-relay sessions</c>, runs
    /// <paramref name="then"/> on it and returns the id.</summary>
    private async Task<string> SessionIdAsync(string token, Func<ConsoleClient, Task> then)
    {
        await using var live = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, token);
        var listed = await fixture.RunAsync("sessions", "--json");
        Assert.True(listed.ExitCode == 0, listed.Output);
        var id = JsonDocument.Parse(listed.Output).RootElement.GetProperty("sessions").EnumerateArray()
            .Single(s => s.GetProperty("node").GetString() == "cli-b" && token.StartsWith(s.GetProperty("tokenPrefix").GetString()!.TrimEnd('…'), StringComparison.Ordinal))
            .GetProperty("id").GetString()!;
        await then(live);
        return id;
    }

    [Fact]
    public async Task Revoke_ClosesTheTokensSessionsOnEveryNodeWith4410_RefusesIt_UntilItsFileIsWrittenAgain()
    {
        var token = fixture.RevokeToken;
        await using var onA = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token);
        await using var onB = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, token);

        var revoked = await fixture.RunAsync("revoke", token);

        Assert.True(revoked.ExitCode == 0, revoked.Output);
        Assert.Contains($"source file:{Path.GetFullPath(fixture.TokenFile)}", revoked.Output, StringComparison.Ordinal);
        foreach (var live in (ConsoleClient[])[onA, onB])
        {
            var (status, reason) = await live.ReadUntilCloseAsync(Timeout);
            Assert.Equal((WebSocketCloseStatus)4410, status);
            Assert.Equal("console revoked by an operator", reason);
        }

        await using (var refused = await ConsoleClient.ConnectAsync(fixture.NodeB.WebSocketUri(token)))
        {
            var (status, _) = await refused.ReadUntilCloseAsync(Timeout);
            Assert.Equal((WebSocketCloseStatus)4404, status);
        }

        var unknown = await fixture.RunAsync("revoke", token);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("404", unknown.Output, StringComparison.Ordinal);
        Assert.Contains("nothing to revoke", unknown.Output, StringComparison.Ordinal);

        await fixture.NodeA.Process.WaitForOutputAsync("revoked by an operator", Timeout);
        Assert.DoesNotContain(token, fixture.NodeA.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, revoked.Output + unknown.Output, StringComparison.Ordinal);

        // The source writes it again (the same line, a new file): the token works again.
        TokenFiles.Rewrite(fixture.TokenFile, fixture.FileEntries);
        await using var back = await ConsoleClient.OpenEchoingAsync(fixture.NodeA, token);
    }

    [Fact]
    public async Task DrainThenUndrain_TheNodeTakesSessionsAgain_AndKeepsItsLiveSessionPastTheBudget()
    {
        await using var live = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.StatusToken);

        var drainStarted = Stopwatch.StartNew();
        var drained = await fixture.RunAsync(fixture.NodeB, "drain");
        Assert.True(drained.ExitCode == 0, drained.Output);
        Assert.Equal("drain", await fixture.NodeB.AskAgentAsync());
        Assert.Contains("draining   yes", (await fixture.RunAsync(fixture.NodeB, "status")).Output, StringComparison.Ordinal);

        var undrained = await fixture.RunAsync(fixture.NodeB, "undrain");

        Assert.True(undrained.ExitCode == 0, undrained.Output);
        Assert.Contains("takes sessions again", undrained.Output, StringComparison.Ordinal);
        // "ready maxconn:N": the agent also tells HAProxy the node's derived session cap.
        Assert.StartsWith("ready", await fixture.NodeB.AskAgentAsync(), StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(fixture.NodeB.AdminUri("/readyz"), TestContext.Current.CancellationToken)).StatusCode);
        await using (var fresh = await ConsoleClient.OpenEchoingAsync(fixture.NodeB, fixture.StatusToken))
        {
            Assert.True(await fresh.EchoesAsync());
        }

        // Wait until the drain budget (12 s) has passed since the drain began: a drain that was not cancelled would
        // have closed the session with 1012 by then.
        await fixture.NodeB.Process.WaitForOutputAsync("Drain cancelled by an operator", Timeout);
        Assert.DoesNotContain("Drain budget spent", fixture.NodeB.Process.Output, StringComparison.Ordinal);
        var pastTheBudget = TimeSpan.FromSeconds(13) - drainStarted.Elapsed;
        if (pastTheBudget > TimeSpan.Zero)
        {
            await Task.Delay(pastTheBudget, TestContext.Current.CancellationToken);
        }

        Assert.Null(live.Socket.CloseStatus);
        Assert.True(await live.EchoesAsync(), "the live session was closed although the drain was cancelled");
        Assert.Contains("was not draining", (await fixture.RunAsync(fixture.NodeB, "undrain")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_ShowsTheStatus_AndNowRunsASync()
    {
        var shown = await fixture.RunAsync("sync");
        Assert.True(shown.ExitCode == 0, shown.Output);
        Assert.Matches(@"last success +\d{4}-", shown.Output);
        Assert.Contains("source abiquo", shown.Output, StringComparison.Ordinal);

        var before = DateTimeOffset.UtcNow;
        var now = await fixture.RunAsync("sync", "--now", "--json");

        Assert.True(now.ExitCode == 0, now.Output);
        var status = JsonDocument.Parse(now.Output).RootElement;
        Assert.True(status.GetProperty("lastSuccessAt").GetDateTimeOffset() >= before.AddSeconds(-1), now.Output);
        Assert.True(status.GetProperty("tokens").GetInt32() >= 1, now.Output);
    }

    [Fact]
    public async Task Check_GoodConfiguration_WithRedisAndAbiquo_PassesEveryLine()
    {
        var check = await DeployCommands.RunAsync("check-good", Repo.RelayExecutable, ["check", "--timeout", "10"], fixture.CheckEnvironment());

        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Matches(@"ok +configuration", check.Output);
        Assert.Matches($@"ok +redis +127\.0\.0\.1:{fixture.Redis.Port}.* answered PING", check.Output);
        Assert.Matches(@"ok +abiquo +http://127\.0\.0\.1:\d+/api .*accepts the account admin", check.Output);
        Assert.DoesNotContain("FAIL", check.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(await File.ReadAllTextAsync(fixture.Simulator.PasswordFile, TestContext.Current.CancellationToken), check.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_BadSettings_UnreachableRedis_AndAWrongPassword_EachFailNamingWhatToFix()
    {
        var wrongPassword = Path.Combine(Repo.TempDirectory("check-password"), "password");
        await File.WriteAllTextAsync(wrongPassword, "not-the-password", TestContext.Current.CancellationToken);
        var deadRedis = $"127.0.0.1:{Ports.Free()}";

        var check = await DeployCommands.RunAsync("check-bad", Repo.RelayExecutable, ["check", "--timeout", "3"], fixture.CheckEnvironment(
            ("Relay__MaxSessions", "-5"), ("Redis__ConnectionString", deadRedis)));
        var abiquo = await DeployCommands.RunAsync("check-abiquo", Repo.RelayExecutable, ["check", "--timeout", "5"], fixture.CheckEnvironment(
            ("Abiquo__PasswordFile", wrongPassword)));

        Assert.Equal(1, check.ExitCode);
        Assert.Matches(@"FAIL +configuration +Relay:MaxSessions", check.Output);
        Assert.Matches($@"FAIL +redis +Redis at {deadRedis.Replace(".", @"\.", StringComparison.Ordinal)}.*did not answer", check.Output);
        Assert.Contains("check: 2 check(s) FAILED", check.Output, StringComparison.Ordinal);
        Assert.Equal(1, abiquo.ExitCode);
        Assert.Matches(@"ok +redis", abiquo.Output);
        Assert.Matches(@"FAIL +abiquo", abiquo.Output);
        Assert.DoesNotContain("not-the-password", abiquo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsageErrors_Exit2_UnreachableNode_Exits1WithItsUrl_AndTheNodesOwnCommandLineIsUntouched()
    {
        var missing = await fixture.RunAsync("kill");
        var unknown = await fixture.RunAsync("status", "--bogus");
        var help = await fixture.RunAsync("revoke", "--help");
        var port = Ports.Free();
        var unreachable = await DeployCommands.RunAsync("unreachable", Repo.RelayExecutable, ["status", "--admin", $"127.0.0.1:{port}", "--token-file", fixture.AdminTokenFile]);
        var nodeHelp = await DeployCommands.RunAsync("node-help", Repo.RelayExecutable, ["--help"]);

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("see 'vnc-relay kill --help'", missing.Output, StringComparison.Ordinal);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--bogus", unknown.Output, StringComparison.Ordinal);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("vnc-relay revoke <TOKEN> [options]", help.Output, StringComparison.Ordinal);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains($"http://127.0.0.1:{port}/", unreachable.Output, StringComparison.Ordinal);
        Assert.Equal(0, nodeHelp.ExitCode);
        Assert.Contains("usage: vnc-relay [-D] [HOST:]PORT", nodeHelp.Output, StringComparison.Ordinal);
    }
}
