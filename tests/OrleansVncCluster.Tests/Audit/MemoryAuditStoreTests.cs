using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Tests.Audit;

/// <summary>The embedded-mode history: bounded, newest first, forgetting what is past retention.</summary>
public sealed class MemoryAuditStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);

    [Fact]
    public async Task ALaterWriteOfTheSameSession_ReplacesItsRecord()
    {
        var store = Store();
        var open = Record("s1", Now);

        await store.WriteAsync([new(open, AuditStage.Opened), new(open with { End = Now, CloseCode = 1000, CloseReason = "bye", BytesToVm = 7 }, AuditStage.Closed)], default);

        var record = Assert.Single(await store.QueryAsync(new AuditQuery(), default));
        Assert.Equal((1000, "bye", 7L), (record.CloseCode!.Value, record.CloseReason!, record.BytesToVm));
    }

    [Fact]
    public async Task Query_IsNewestFirst_Filtered_AndLimited()
    {
        var store = Store();
        await store.WriteAsync(
        [
            new(Record("old", Now.AddMinutes(-3), client: "127.0.0.2"), AuditStage.Opened),
            new(Record("mid", Now.AddMinutes(-2), client: "127.0.0.3"), AuditStage.Opened),
            new(Record("new", Now.AddMinutes(-1), client: "127.0.0.2"), AuditStage.Opened),
        ], default);

        Assert.Equal(["new", "mid", "old"], (await store.QueryAsync(new AuditQuery(), default)).Select(r => r.Id));
        Assert.Equal(["new", "old"], (await store.QueryAsync(new AuditQuery { Client = "127.0.0.2" }, default)).Select(r => r.Id));
        Assert.Equal(["new"], (await store.QueryAsync(new AuditQuery { Limit = 1 }, default)).Select(r => r.Id));
        Assert.Equal(["mid"], (await store.QueryAsync(new AuditQuery { Since = Now.AddMinutes(-2), Until = Now.AddMinutes(-2) }, default)).Select(r => r.Id));
    }

    [Fact]
    public async Task BeyondItsCapacity_TheOldestRecordsAreForgotten()
    {
        var store = Store(memoryRecords: 100);

        await store.WriteAsync([.. Enumerable.Range(0, 150).Select(i => new AuditWrite(Record($"s{i}", Now.AddSeconds(i)), AuditStage.Opened))], default);

        Assert.Equal(100, store.Count);
        var kept = await store.QueryAsync(new AuditQuery { Limit = 1000 }, default);
        Assert.Equal("s149", kept[0].Id);
        Assert.Equal("s50", kept[^1].Id);
    }

    [Fact]
    public async Task RecordsPastRetention_AreNotReturned_AndAreDroppedOnTheNextWrite()
    {
        var store = Store(retention: TimeSpan.FromHours(1));
        await store.WriteAsync([new(Record("s1", Now) with { End = Now }, AuditStage.Closed)], default);

        _time.Advance(TimeSpan.FromMinutes(61));

        Assert.Empty(await store.QueryAsync(new AuditQuery(), default));
        await store.WriteAsync([new(Record("s2", _time.GetUtcNow()), AuditStage.Opened)], default);
        Assert.Equal(1, store.Count);
    }

    internal static AuditRecord Record(string id, DateTimeOffset start, string client = "127.0.0.2") => new()
    {
        Id = id, Vm = new AuditVm { Id = "1", Name = "vm-1", Enterprise = "tenant" }, Client = client, Node = "node1", Start = start, Role = "control",
    };

    private MemoryAuditStore Store(int memoryRecords = 10_000, TimeSpan? retention = null) =>
        new(new StaticOptions(new AuditOptions { MemoryRecords = memoryRecords, Retention = retention ?? TimeSpan.FromDays(90) }), _time);

    private sealed class StaticOptions(AuditOptions value) : IOptionsMonitor<AuditOptions>
    {
        public AuditOptions CurrentValue => value;

        public AuditOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<AuditOptions, string?> listener) => null;
    }
}
