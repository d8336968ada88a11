using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.Runtime;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Relay.Audit;
using StackExchange.Redis;

namespace OrleansVncCluster.IntegrationTests.Audit;

/// <summary>
/// The Redis store of the history against a real redis-server, without nodes: upserts, the indexes behind the filters,
/// retention, and the closing of a dead silo's open records.
/// </summary>
public sealed class RedisAuditStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _multiplexer = null!;
    private string _service = "";

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    [Fact]
    public async Task EachWriteReplacesTheRecord_AndTheClosingWriteTakesItOutOfItsSilosOpenSet()
    {
        var store = Store("node-a", 1);
        var open = Record("s1", Now.AddMinutes(-1));

        await store.WriteAsync([new(open, AuditStage.Opened)], default);
        Assert.Equal([store.Silo], await store.OpenSilosAsync());
        Assert.Equal(1, await Database.SetLengthAsync($"{_service}/audit/open/{store.Silo}"));
        await store.WriteAsync([new(open with { BytesToVm = 10 }, AuditStage.Checkpoint), new(open with { End = Now, CloseCode = 1000, CloseReason = "bye", BytesToVm = 20 }, AuditStage.Closed)], default);

        var record = Assert.Single(await store.QueryAsync(new AuditQuery(), default));
        Assert.Equal((20L, 1000, "bye"), (record.BytesToVm, record.CloseCode!.Value, record.CloseReason!));
        Assert.Equal(0, await Database.SetLengthAsync($"{_service}/audit/open/{store.Silo}"));
        var ttl = await Database.KeyTimeToLiveAsync($"{_service}/audit/rec/s1");
        Assert.InRange(ttl!.Value, TimeSpan.FromDays(89), TimeSpan.FromDays(90));
    }

    [Fact]
    public async Task Query_UsesTheIndexOfEachFilter_CombinesThem_NewestFirst()
    {
        var store = Store("node-a", 1);
        await store.WriteAsync(
        [
            new(Record("a", Now.AddMinutes(-4), vmId: "1", client: "127.0.0.2", user: "alice"), AuditStage.Opened),
            new(Record("b", Now.AddMinutes(-3), vmId: "2", client: "127.0.0.2", user: "bob"), AuditStage.Opened),
            new(Record("c", Now.AddMinutes(-2), vmId: "1", client: "127.0.0.3", user: "alice"), AuditStage.Opened),
            new(Record("d", Now.AddMinutes(-1), vmId: "1", client: "127.0.0.2"), AuditStage.Opened),
        ], default);

        Assert.Equal(["d", "c", "b", "a"], await Ids(store, new AuditQuery()));
        Assert.Equal(["d", "c", "a"], await Ids(store, new AuditQuery { Vm = "1" }));
        Assert.Equal(["d", "c", "a"], await Ids(store, new AuditQuery { Vm = "vm-1" }));
        Assert.Equal(["c", "a"], await Ids(store, new AuditQuery { User = "alice" }));
        Assert.Equal(["d", "a"], await Ids(store, new AuditQuery { Vm = "1", Client = "127.0.0.2" }));
        Assert.Equal(["a"], await Ids(store, new AuditQuery { Vm = "1", Client = "127.0.0.2", User = "alice" }));
        Assert.Equal(["c", "b"], await Ids(store, new AuditQuery { Since = Now.AddMinutes(-3), Until = Now.AddMinutes(-2) }));
        Assert.Equal(["d", "c"], await Ids(store, new AuditQuery { Limit = 2 }));
        Assert.Empty(await Ids(store, new AuditQuery { Client = "127.0.0.9" }));
    }

    [Fact]
    public async Task ManyRecords_AreReadPageByPage_UpToTheLimit()
    {
        var store = Store("node-a", 1);
        await store.WriteAsync([.. Enumerable.Range(0, 1200).Select(i => new AuditWrite(Record($"r{i:D4}", Now.AddSeconds(-i), vmId: (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture)), AuditStage.Opened))], default);

        var page = await store.QueryAsync(new AuditQuery { Limit = 1000, User = null, Vm = "1" }, default);

        Assert.Equal(600, page.Count);
        Assert.Equal("r0001", page[0].Id);
        Assert.Equal(1000, (await store.QueryAsync(new AuditQuery { Limit = 1000 }, default)).Count);
    }

    [Fact]
    public async Task RecordsPastRetention_AreNotReturned_AndTheirIndexEntriesAreTrimmedOnTheNextWrite()
    {
        var store = Store("node-a", 1, TimeSpan.FromHours(1));
        await store.WriteAsync([new(Record("old", Now.AddMinutes(-30)), AuditStage.Opened)], default);

        _time.Advance(TimeSpan.FromMinutes(31));

        Assert.Empty(await Ids(store, new AuditQuery()));
        await store.WriteAsync([new(Record("new", _time.GetUtcNow()), AuditStage.Opened)], default);
        Assert.Equal(["new"], (await Database.SortedSetRangeByRankAsync($"{_service}/audit/index")).Select(v => v.ToString()));
        Assert.Equal(["new"], (await Database.SortedSetRangeByRankAsync($"{_service}/audit/by/client/127.0.0.2")).Select(v => v.ToString()));
    }

    [Fact]
    public async Task CloseLost_ClosesOnlyTheDeadSilosOpenRecords_AsNodeLost_AndIsIdempotent()
    {
        var dead = Store("node-a", 1);
        var alive = Store("node-b", 2);
        var finished = Record("finished", Now.AddMinutes(-3)) with { End = Now.AddMinutes(-2), CloseCode = 1000, CloseReason = "bye" };
        await dead.WriteAsync([new(Record("cut", Now.AddMinutes(-1)) with { BytesToVm = 99 }, AuditStage.Opened), new(Record("finished", Now.AddMinutes(-3)), AuditStage.Opened), new(finished, AuditStage.Closed)], default);
        await alive.WriteAsync([new(Record("live", Now.AddMinutes(-1)), AuditStage.Opened)], default);

        var closed = await alive.CloseLostAsync(dead.Silo, Now);

        Assert.Equal(1, closed);
        var records = (await alive.QueryAsync(new AuditQuery(), default)).ToDictionary(r => r.Id);
        Assert.Equal((Now, 1006, "node lost", 99L), (records["cut"].End!.Value, records["cut"].CloseCode!.Value, records["cut"].CloseReason!, records["cut"].BytesToVm));
        Assert.Equal(finished, records["finished"]);
        Assert.Null(records["live"].End);
        Assert.Equal([alive.Silo], await alive.OpenSilosAsync());
        Assert.Equal(0, await alive.CloseLostAsync(dead.Silo, Now.AddMinutes(1)));
        Assert.Equal(Now, (await alive.QueryAsync(new AuditQuery { Client = "127.0.0.2" }, default)).Single(r => r.Id == "cut").End);
    }

    [Fact]
    public async Task Rehearse_EncodesTheRecord_AndStoresNothing()
    {
        var store = Store("node-a", 1);
        var closed = Record("rehearsal", Now.AddMinutes(-1)) with { End = Now, CloseCode = 1000, CloseReason = "bye" };

        store.Rehearse(Record("rehearsal", Now.AddMinutes(-1)));
        store.Rehearse(closed);

        var server = _multiplexer.GetServer(_multiplexer.GetEndPoints().Single());
        Assert.Empty(server.Keys(pattern: _service + "*"));
        Assert.Empty(await store.QueryAsync(new AuditQuery(), default));
        Assert.Empty(await store.OpenSilosAsync());
        // The store still writes as before.
        await store.WriteAsync([new(closed, AuditStage.Closed)], default);
        Assert.Equal("rehearsal", Assert.Single(await store.QueryAsync(new AuditQuery(), default)).Id);
    }

    public async ValueTask DisposeAsync()
    {
        await _multiplexer.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private IDatabase Database => _multiplexer.GetDatabase();

    private static async Task<List<string>> Ids(RedisAuditStore store, AuditQuery query) => [.. (await store.QueryAsync(query, default)).Select(r => r.Id)];

    private static AuditRecord Record(string id, DateTimeOffset start, string vmId = "1", string client = "127.0.0.2", string? user = null) => new()
    {
        Id = id, Vm = new AuditVm { Id = vmId, Name = $"vm-{vmId}", Enterprise = "acme" }, Client = client, Node = "node", Start = start, Role = "control", User = user,
    };

    private RedisAuditStore Store(string name, int generation, TimeSpan? retention = null)
    {
        // One service id per test: each test sees only its own keys on the shared redis-server.
        if (_service.Length == 0)
        {
            _service = "audit-store-" + Guid.NewGuid().ToString("N")[..8];
        }

        return new RedisAuditStore(_multiplexer, Options.Create(new ClusterOptions { ServiceId = _service }),
            new Monitor(new AuditOptions { Retention = retention ?? TimeSpan.FromDays(90) }), _time, new Silo(name, generation));
    }

    private sealed class Monitor(AuditOptions value) : IOptionsMonitor<AuditOptions>
    {
        public AuditOptions CurrentValue => value;

        public AuditOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AuditOptions, string?> listener) => null;
    }

    private sealed class Silo(string name, int generation) : ILocalSiloDetails
    {
        public string Name => name;

        public string ClusterId => "test";

        public string DnsHostName => "localhost";

        public SiloAddress SiloAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11000 + generation), generation);

        public SiloAddress GatewayAddress => SiloAddress;
    }
}
