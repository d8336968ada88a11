using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.IntegrationTests.Audit;

/// <summary>
/// The session history across a real three-node cluster on Redis (issue 13, item 5): a session closed by its browser,
/// one closed by an administrator and one whose node was killed with SIGKILL are each recorded with their close, bytes
/// and VM, read from another node, and again after every node restarted; queries filter and refuse bad parameters.
/// </summary>
public sealed class AuditHistoryTests(AuditClusterFixture fixture, ITestOutputHelper output) : IClassFixture<AuditClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ClosedKilledAndCrashedSessions_AreInTheHistoryOfAnotherNode_AndStillAfterEveryNodeRestarted()
    {
        await fixture.EnsureRunningAsync();
        var nodes = fixture.Nodes;

        // Closed by its browser, on node 1.
        var normal = fixture.NextSource();
        await using (var client = await ConsoleClient.OpenEchoingAsync(nodes[0], fixture.Tokens[0], normal))
        {
            Assert.True(await client.EchoesAsync(1000));
            await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "user closed the console", TestContext.Current.CancellationToken);
        }

        // Closed by an administrator through node 1's API, on node 2.
        var killed = fixture.NextSource();
        await using (var client = await ConsoleClient.OpenEchoingAsync(nodes[1], fixture.Tokens[1], killed))
        {
            var id = await AuditClusterFixture.LiveSessionIdAsync(nodes[0], killed);
            using var admin = nodes[0].AdminClient();
            using var deleted = await admin.DeleteAsync(new Uri($"/api/sessions/{id}", UriKind.Relative), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.Equal((WebSocketCloseStatus)1008, (await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(10))).Status);
        }

        // Cut by the SIGKILL of node 3, once its bytes reached the history (checkpoints run every second here).
        var crashed = fixture.NextSource();
        var orphan = await ConsoleClient.OpenEchoingAsync(nodes[2], fixture.Tokens[0], crashed);
        Assert.True(await orphan.EchoesAsync(4096));
        // Both directions: a checkpoint can fall between the echo's count towards the VM and its count back, and the
        // record the survivor closes is the last checkpoint.
        await Eventually.HoldsAsync(async () => (await AuditClusterFixture.RecordOfAsync(nodes[0], crashed)) is { BytesToVm: 512 + 4096, BytesToBrowser: 512 + 4096 },
            Timeout, "the crashing session's checkpoint reaches the history");
        var victim = nodes[2];
        var killedAt = Stopwatch.StartNew();
        victim.Process.Signal("KILL");
        Assert.True(await victim.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the node dies on SIGKILL");
        await Eventually.HoldsAsync(async () => (await AuditClusterFixture.RecordOfAsync(nodes[0], crashed))?.End is not null,
            Timeout, "a survivor closes the record of the session cut by the crash");
        output.WriteLine($"history: the crashed node's record was closed by a survivor {killedAt.Elapsed.TotalSeconds:F1} s after SIGKILL");
        await orphan.DisposeAsync();

        // Asked of another node than those that carried them.
        var fromAnother = await OursAsync(nodes[1], normal, killed, crashed);
        AssertRecord(fromAnother[normal], nodes[0], 1000, "user closed the console", 512 + 1000, "demo-desktop-1");
        AssertRecord(fromAnother[killed], nodes[1], 1008, "console closed by an administrator", 512, "demo-desktop-2");
        AssertRecord(fromAnother[crashed], victim, AuditRecord.NodeLostCode, AuditRecord.NodeLostReason, 512 + 4096, "demo-desktop-1");

        // Every node restarted (SIGTERM: a drain of 1 s, then 1012 for what is left): the records come from Redis,
        // unchanged, and a session the drain closed was stored before its node exited.
        var drained = fixture.NextSource();
        await using var last = await ConsoleClient.OpenEchoingAsync(nodes[0], fixture.Tokens[1], drained);
        await fixture.RestartAllAsync();

        var afterRestart = await OursAsync(fixture.Nodes[2], normal, killed, crashed, drained);
        Assert.Equal(fromAnother, afterRestart.Where(r => !r.Key.Equals(drained)).ToDictionary());
        Assert.Equal(((int?)1012, nodes[0].Settings.SiloName), (afterRestart[drained].CloseCode, afterRestart[drained].Node));
        Assert.NotNull(afterRestart[drained].End);
    }

    [Fact]
    public async Task Filters_SelectByVmClientAndTime_NewestFirst_UpToTheLimit()
    {
        await fixture.EnsureRunningAsync();
        var node = fixture.Nodes[0];
        var sources = new List<IPAddress>();
        foreach (var token in new[] { fixture.Tokens[0], fixture.Tokens[1], fixture.Tokens[0] })
        {
            var source = fixture.NextSource();
            sources.Add(source);
            await using var client = await ConsoleClient.OpenEchoingAsync(node, token, source);
        }

        // Each record is closed (its final write is queued before the session leaves the node, and stored right after).
        var records = new List<AuditRecord>();
        foreach (var source in sources)
        {
            AuditRecord? record = null;
            await Eventually.HoldsAsync(async () => (record = await AuditClusterFixture.RecordOfAsync(fixture.Nodes[1], source))?.End is not null,
                Timeout, $"the session of {source} is closed in the history");
            records.Add(record!);
        }

        var (first, second, third) = (records[0], records[1], records[2]);
        Assert.True(first.Start <= second.Start && second.Start <= third.Start, "sessions opened one after the other");
        var window = $"since={Iso(first.Start)}&until={Iso(third.Start)}";
        Assert.Equal([third.Id, second.Id, first.Id], (await AuditClusterFixture.HistoryAsync(node, "?" + window)).Select(r => r.Id));
        Assert.Equal([third.Id], (await AuditClusterFixture.HistoryAsync(node, "?limit=1&" + window)).Select(r => r.Id));
        Assert.Equal([second.Id], (await AuditClusterFixture.HistoryAsync(node, $"?since={Iso(second.Start)}&until={Iso(second.Start)}")).Select(r => r.Id));
        Assert.Equal([second.Id], (await AuditClusterFixture.HistoryAsync(node, $"?client={sources[1]}")).Select(r => r.Id));

        // The VM by its id or its name, combined with a client: the other VM's session never matches.
        Assert.Equal([second.Id], (await AuditClusterFixture.HistoryAsync(node, $"?vm={second.Vm.Id}&{window}")).Select(r => r.Id));
        Assert.Equal([third.Id, first.Id], (await AuditClusterFixture.HistoryAsync(node, $"?vm=demo-desktop-1&{window}")).Select(r => r.Id));
        Assert.Empty(await AuditClusterFixture.HistoryAsync(node, $"?vm={first.Vm.Id}&client={sources[1]}"));
        Assert.NotEqual(first.Vm.Id, second.Vm.Id);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-13-45T00:00:00Z", "until")]
    [InlineData("client=not-an-ip", "client")]
    [InlineData("vm=", "vm")]
    [InlineData("tenant=acme", "tenant")]
    public async Task BadParameter_Answers400_NamingIt(string query, string parameter)
    {
        await fixture.EnsureRunningAsync();
        using var admin = fixture.Nodes[0].AdminClient();

        using var response = await admin.GetAsync(new Uri("/api/history?" + query, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("detail").GetString();
        Assert.Contains(parameter, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTheAdminToken_TheHistoryIsRefused()
    {
        await fixture.EnsureRunningAsync();
        using var anonymous = new HttpClient();

        using var response = await anonymous.GetAsync(fixture.Nodes[0].AdminUri("/api/history"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static void AssertRecord(AuditRecord record, RelayNodeProcess node, int code, string reason, long bytes, string vmName)
    {
        Assert.Equal((code, reason), (record.CloseCode, record.CloseReason));
        Assert.Equal(node.Settings.SiloName, record.Node);
        Assert.Equal((bytes, bytes), (record.BytesToVm, record.BytesToBrowser));
        Assert.Equal(vmName, record.Vm.Name);
        Assert.False(string.IsNullOrEmpty(record.Vm.Id), "the VM's id is recorded");
        Assert.False(string.IsNullOrEmpty(record.Vm.Enterprise), "the VM's enterprise is recorded");
        Assert.Equal("control", record.Role);
        Assert.Null(record.User);
        Assert.True(record.End >= record.Start, $"end {record.End:O} is not before start {record.Start:O}");
        // A control session's input is not parsed: its counts are 0 (docs/OPERATIONS.md, "Audit history").
        Assert.Equal((0L, 0L, 0L), (record.KeyEvents, record.PointerEvents, record.ClipboardBytes));
    }

    private static async Task<Dictionary<IPAddress, AuditRecord>> OursAsync(RelayNodeProcess node, params IPAddress[] clients)
    {
        var history = await AuditClusterFixture.HistoryAsync(node, "?limit=1000");
        var ours = clients.ToDictionary(c => c, c => history.Where(r => r.Client == c.ToString()).ToList());
        foreach (var (client, records) in ours)
        {
            Assert.True(records.Count == 1, $"{node.Settings.SiloName}'s history has {records.Count} records of client {client}: {string.Join(", ", records)}");
        }

        return ours.ToDictionary(p => p.Key, p => p.Value[0]);
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
}
