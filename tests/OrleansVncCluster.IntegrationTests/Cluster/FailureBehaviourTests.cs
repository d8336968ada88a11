using System.Diagnostics;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// What users see when one part of a three-node cluster behind HAProxy fails or is maintained while consoles are open:
/// a killed node, a drained or stopped node, a restarted Redis, a reloaded HAProxy. Measured figures go to the test
/// output (and docs/benchmarks.md), not into assertions.
/// </summary>
public sealed class FailureBehaviourTests(FailureClusterFixture fixture, ITestOutputHelper output) : IClassFixture<FailureClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The issue promises new sessions within 5 s of a node's death. A refused connect is redispatched to another node
    /// at the first retry (haproxy.cfg `option redispatch 1`), so recovery does not wait for the health checks to mark
    /// the node down (0.2 s measured here; 3.5-4.2 s with the default redispatch on the last retry). The poll allows
    /// more and the test output reports the figure, rather than failing a loaded machine on timing.
    /// </summary>
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan RecoveryPromise = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task KillNine_OfTheNodeHostingTheSync_OtherSessionsFlow_NewSessionsRecover_SyncMovesToASurvivor_AndTheNodeRejoins()
    {
        await fixture.EnsureHealthyAsync();
        await using var sessions = await fixture.PlaceAsync(0, 1, 2);

        // The node to kill is the one that runs the singleton sync grain, wherever Orleans placed it.
        var syncHost = await SyncHostAsync(fixture.Nodes[0]);
        var victimIndex = fixture.IndexOf(syncHost);
        var victim = fixture.Nodes[victimIndex];
        var orphan = sessions.On(victim.Settings.SiloName).First();
        output.WriteLine($"kill -9: the sync grain runs on {syncHost}; killing it");

        var killed = Stopwatch.StartNew();
        victim.Process.Signal("KILL");
        Assert.True(await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the node dies on SIGKILL");

        foreach (var survivor in sessions.NotOn(victim.Settings.SiloName))
        {
            Assert.True(await survivor.Client.EchoesAsync(), $"the session on {survivor.Node} still relays bytes after the kill");
        }

        // The dead node's own clients come back first: their hash pointed at it, so HAProxy must send them elsewhere.
        await Eventually.HoldsAsync(async () =>
        {
            await using var again = await ConsoleClient.TryOpenEchoingAsync(fixture.Haproxy.WebSocketUri(orphan.Token), orphan.Source);
            return again is not null;
        }, RecoveryTimeout, $"a new session from {orphan.Source} (the dead node's client) works through HAProxy");
        var recovered = killed.Elapsed;
        output.WriteLine($"kill -9: new sessions through HAProxy work again {recovered.TotalMilliseconds:F0} ms after the kill " +
            (recovered <= RecoveryPromise ? "(within the 5 s promise)" : "(MISSED the 5 s promise)"));

        var vmAdded = Stopwatch.StartNew();
        var newToken = await fixture.AddVmAsync();
        await using (var fresh = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(newToken),
            "a VM added to Abiquo after the kill is synced and opens through HAProxy", fixture.NextSource(), Timeout))
        {
            output.WriteLine($"kill -9: a VM added after the kill opened {vmAdded.ElapsedMilliseconds} ms after it was added ({killed.ElapsedMilliseconds} ms after the kill)");
        }

        var newHost = await SyncHostAsync(fixture.Nodes.First(n => n != victim));
        Assert.NotEqual(victim.Settings.SiloName, newHost);
        output.WriteLine($"kill -9: the sync grain now runs on {newHost}");

        // No token is lost: every VM the simulator started with still opens through HAProxy, from a client address that
        // hashed to the dead node (so HAProxy must send it elsewhere).
        foreach (var token in fixture.Tokens)
        {
            await using var kept = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(token),
                $"token {token[..6]}... still opens after the kill", fixture.SourceOnNode(victimIndex));
        }

        foreach (var survivor in sessions.NotOn(victim.Settings.SiloName))
        {
            Assert.True(await survivor.Client.EchoesAsync(), $"the session on {survivor.Node} still relays bytes");
        }

        var restarted = Stopwatch.StartNew();
        var rejoined = await fixture.RestartAsync(victimIndex);
        await fixture.WaitForServerStatusAsync(victimIndex, "UP");
        output.WriteLine($"kill -9: the restarted node was ready and UP in HAProxy {restarted.ElapsedMilliseconds} ms after its start");
        await using (var direct = await ConsoleClient.OpenEchoingAsync(rejoined, newToken))
        {
            Assert.Contains(await fixture.LiveSessionsAsync(), s => s.Node == rejoined.Settings.SiloName);
        }
    }

    [Fact]
    public async Task DrainThroughTheAgent_HaproxySendsNewSessionsElsewhere_WhileTheLiveSessionKeepsFlowing()
    {
        await fixture.EnsureHealthyAsync();
        // Node 0 has the long drain budget, so HAProxy's agent check sees the drain before the node stops.
        var index = 0;
        await using var sessions = await fixture.PlaceAsync(index, 1);
        var drained = fixture.Nodes[index];
        var live = sessions.On(drained.Settings.SiloName).First();

        var triggered = Stopwatch.StartNew();
        using (var admin = drained.AdminClient())
        using (var response = await admin.PostAsync(new Uri("/api/drain", UriKind.Relative), null))
        {
            response.EnsureSuccessStatusCode();
        }

        Assert.Equal("drain", await drained.AskAgentAsync());
        await fixture.WaitForServerStatusAsync(index, "DRAIN");
        output.WriteLine($"drain: HAProxy showed {FailureClusterFixture.ServerName(index)} as DRAIN {triggered.ElapsedMilliseconds} ms after the trigger (agent-inter 5s)");
        Assert.True(await live.Client.EchoesAsync(), "the live session on the draining node keeps relaying");

        // The same client address hashed to the drained node: its new session must go to another one.
        await using var moved = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(live.Token),
            $"a new session from {live.Source} works through HAProxy while its node drains", live.Source);
        var carriers = (await fixture.LiveSessionsAsync()).Where(s => s.Client == live.Source.ToString()).Select(s => s.Node).ToList();
        Assert.Equal(2, carriers.Count);
        Assert.Single(carriers, drained.Settings.SiloName);
        Assert.True(await live.Client.EchoesAsync(), "the live session on the draining node still relays");
    }

    [Fact]
    public async Task Sigterm_BehindHaproxy_ClosesLiveSessionsForReconnect_ExitsWithinTheBudget_AndClientsMoveOn()
    {
        await fixture.EnsureHealthyAsync();
        var stopping = fixture.Nodes[FailureClusterFixture.ShortBudgetNode];
        await using var sessions = await fixture.PlaceAsync(FailureClusterFixture.ShortBudgetNode, 0);
        var live = sessions.On(stopping.Settings.SiloName).First();

        var signalled = Stopwatch.StartNew();
        stopping.Process.Signal("TERM");
        var (status, reason) = await live.Client.ReadUntilCloseAsync(Timeout);
        var closedAfter = signalled.ElapsedMilliseconds;
        Assert.True(await stopping.Process.WaitForExitAsync(Timeout), "the node exits after SIGTERM");
        output.WriteLine($"SIGTERM: live session closed with {(int?)status} after {closedAfter} ms, process exited after {signalled.ElapsedMilliseconds} ms (drain budget {FailureClusterFixture.ShortDrainBudget.TotalSeconds:F0} s)");

        Assert.Contains((int?)status, new int?[] { 1001, 1012 });
        Assert.Contains("reconnect", reason, StringComparison.Ordinal);
        Assert.Equal(0, stopping.Process.ExitCode);
        foreach (var other in sessions.NotOn(stopping.Settings.SiloName))
        {
            Assert.True(await other.Client.EchoesAsync(), $"the session on {other.Node} is untouched by another node's stop");
        }

        // What noVNC does on 1012: reconnect through HAProxy, which now sends that client to a node that runs.
        await using var reconnected = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(live.Token),
            $"the closed session's client ({live.Source}) reconnects through HAProxy", live.Source);
    }

    /// <summary>
    /// A quick, graceful Redis restart (SIGTERM, down for well under a second). It cannot tell the AOF from a node's cache
    /// or the next sync: <see cref="RedisOutageTests"/> keeps Redis down for 30 s under load and proves the AOF with the
    /// sync stopped and every node restarted.
    /// </summary>
    [Fact]
    public async Task RedisRestart_LiveSessionsUntouched_AndKnownTokensStillOpenEverywhere()
    {
        await fixture.EnsureHealthyAsync();
        await using var sessions = await fixture.PlaceAsync(0, 1);

        var down = Stopwatch.StartNew();
        await fixture.RestartRedisAsync(async () =>
        {
            foreach (var session in sessions)
            {
                Assert.True(await session.Client.EchoesAsync(), $"the session on {session.Node} relays while Redis is down");
            }
        });
        var back = Stopwatch.StartNew();

        foreach (var session in sessions)
        {
            Assert.True(await session.Client.EchoesAsync(), $"the session on {session.Node} relays after Redis came back");
        }

        foreach (var node in fixture.Nodes)
        {
            foreach (var token in fixture.Tokens)
            {
                await using var fresh = await ConsoleClient.OpenEchoingAsync(node, token);
            }
        }

        await using var throughHaproxy = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(fixture.Tokens[0]),
            "a new session through HAProxy after the Redis restart", fixture.NextSource());
        output.WriteLine($"Redis restart: down for {down.ElapsedMilliseconds - back.ElapsedMilliseconds} ms; new sessions for known tokens on every node within {back.ElapsedMilliseconds} ms of its return");
        await fixture.EnsureHealthyAsync();
    }

    [Fact]
    public async Task VmMovedToAnotherAddress_WhileItsConsoleIsOpen_ClosesWith4410ConsoleRevoked_AndTheNewAddressOpens()
    {
        await fixture.EnsureHealthyAsync();
        // A VM of its own: the fixture's VMs stay where other tests expect them.
        var token = await fixture.AddVmAsync();
        await using var open = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(token),
            "a session to the VM before it moves", fixture.NextSource(), Timeout);
        await using var bystander = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(fixture.Tokens[0]),
            "a session to a VM that stays", fixture.NextSource());

        var moved = Stopwatch.StartNew();
        var (newVm, newToken) = await fixture.MoveVmAsync(token);
        var (status, reason) = await open.ReadUntilCloseAsync(Timeout);
        var closedAfter = moved.Elapsed;

        // README's table: "token removed or retargeted while in use | 4410 | console revoked". Abiquo's token is
        // md5("vdrpIP:vdrpPort"), so a moved console is the old token removed and a new one added.
        Assert.Equal((WebSocketCloseStatus)4410, status);
        Assert.Equal("console revoked", reason);
        Assert.True(await bystander.EchoesAsync(), "a session to a VM that did not move keeps relaying");

        await using var atNewAddress = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(newToken),
            "the moved VM's new token opens through HAProxy", fixture.NextSource(), Timeout);
        var reopened = moved.Elapsed;
        Assert.True(newVm.Accepted >= 1, "the new session reaches the console at the VM's new address");
        // A node may answer from its few-second token cache just after the move; the old token must end up unknown.
        await Eventually.HoldsAsync(async () =>
        {
            await using var stale = await ConsoleClient.ConnectAsync(fixture.Haproxy.WebSocketUri(token), source: fixture.NextSource());
            var (staleStatus, staleReason) = await stale.ReadUntilCloseAsync(TimeSpan.FromSeconds(5));
            return staleStatus == (WebSocketCloseStatus)4404 && staleReason == "unknown console token";
        }, Timeout, "a new session for the moved VM's old token closes with 4404 unknown console token");

        output.WriteLine($"VM moved: its open console closed with {(int?)status} \"{reason}\" {closedAfter.TotalMilliseconds:F0} ms after the move; " +
            $"the new address opened {reopened.TotalMilliseconds:F0} ms after the move (sync interval 1 s); the old token now gets 4404");
    }

    [Fact]
    public async Task VmAddedWhileRedisIsDown_IsWrittenByTheSyncOnceRedisIsBack_AndRedisHoldsIt()
    {
        await fixture.EnsureHealthyAsync();
        string? token = null;
        var down = Stopwatch.StartNew();
        await fixture.RestartRedisAsync(async () =>
        {
            token = await fixture.AddVmAsync();
            // The sync has tried to store the new token and failed (reading the new grain's state, or writing it): the
            // event this test is about.
            await Eventually.HoldsAsync(() => fixture.Nodes.Any(n => n.Process.Output.Contains($"grain state for token grain with ID token/{token}", StringComparison.Ordinal)),
                Timeout, "a node logs that storing the new VM's token failed while Redis is down");
        });
        var back = Stopwatch.StartNew();

        // A failed write must not count as done: a later sync writes the token, to Redis itself.
        var endpoint = $"127.0.0.1:{fixture.Redis.Port}";
        await Eventually.HoldsAsync(async () => (await StoredTokens.PresentAsync(endpoint, fixture.ClusterId, [token!])).Count == 1, Timeout,
            "the token of the VM added while Redis was down is stored in Redis after it is back");
        var stored = back.Elapsed;
        await using var opened = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(token!),
            "the VM added while Redis was down opens through HAProxy", fixture.NextSource(), Timeout);
        output.WriteLine($"VM added during a Redis outage ({(down.Elapsed - back.Elapsed).TotalMilliseconds:F0} ms): its token was in Redis {stored.TotalMilliseconds:F0} ms after Redis was back");
    }

    [Fact]
    public async Task HaproxyReload_LiveSessionsSurvive_AndNewOnesWork()
    {
        await fixture.EnsureHealthyAsync();
        await using var sessions = await fixture.PlaceAsync(0, 1);

        await fixture.Haproxy.ReloadAsync();

        foreach (var session in sessions)
        {
            Assert.True(await session.Client.EchoesAsync(), $"the session on {session.Node} (held by the old HAProxy worker) survives the reload");
        }

        await using var fresh = await ConsoleClient.OpenEchoingAsync(fixture.Haproxy.WebSocketUri(fixture.Tokens[1]),
            "a new session through the reloaded HAProxy", fixture.NextSource());
        Assert.True(await sessions[0].Client.EchoesAsync(), "old sessions still relay next to new ones");
        Assert.Equal(WebSocketState.Open, sessions[^1].Client.Socket.State);
    }

    private static Task<string> SyncHostAsync(RelayNodeProcess node) => SyncStatus.HostAsync(node, Timeout);
}
