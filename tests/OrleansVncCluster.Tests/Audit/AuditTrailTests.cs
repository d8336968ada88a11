using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Tests.Audit;

/// <summary>The history's writer: a session's write never waits or fails, whatever the store does; losses are counted.</summary>
public sealed class AuditTrailTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Writes_ReachTheStoreInOrder_AndAreCountedAsWritten()
    {
        var store = new FakeStore();
        var (trail, metrics) = Trail(store);
        await trail.StartAsync(TestContext.Current.CancellationToken);

        var open = MemoryAuditStoreTests.Record("s1", Start);
        Assert.True(trail.Write(open, AuditStage.Opened));
        Assert.True(trail.Write(open with { End = Start.AddSeconds(5), CloseCode = 1000, CloseReason = "bye" }, AuditStage.Closed));

        await Eventually(() => store.Stored.Count == 2, "both writes are stored");
        Assert.Equal([AuditStage.Opened, AuditStage.Closed], store.Stored.Select(w => w.Stage));
        Assert.Equal(2, metrics.Audit.Written);
        await trail.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Rehearse_RunsTheStoresSideOfTheRecord_AndQueuesNothing()
    {
        var store = new FakeStore();
        var (trail, metrics) = Trail(store);
        await trail.StartAsync(TestContext.Current.CancellationToken);

        trail.Rehearse(MemoryAuditStoreTests.Record("rehearsal", Start));
        Assert.True(trail.Write(MemoryAuditStoreTests.Record("user", Start), AuditStage.Opened));

        await Eventually(() => store.Stored.Count == 1, "the user's write is stored");
        Assert.Equal(["rehearsal"], store.Rehearsed.Select(r => r.Id));
        Assert.Equal(["user"], store.Stored.Select(w => w.Record.Id));
        Assert.Equal(1, metrics.Audit.Written);
        await trail.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task StoreBlocked_QueueFills_FurtherWritesAreDroppedAtOnce_AndCounted()
    {
        var store = new FakeStore { Block = new TaskCompletionSource() };
        var (trail, metrics) = Trail(store, queueCapacity: 100);
        using var dropped = new MetricCollector<long>(metrics.Meter, "vnc_relay_audit_records_dropped");
        await trail.StartAsync(TestContext.Current.CancellationToken);
        Assert.True(trail.Write(MemoryAuditStoreTests.Record("first", Start), AuditStage.Opened));
        await store.Entered.Task.WaitAsync(Soon, TestContext.Current.CancellationToken);

        var accepted = Enumerable.Range(0, 150).Count(i => trail.Write(MemoryAuditStoreTests.Record($"s{i}", Start), AuditStage.Opened));

        Assert.Equal(100, accepted);
        Assert.Equal(50, metrics.Audit.Dropped);
        dropped.RecordObservableInstruments();
        Assert.Equal(50, dropped.GetMeasurementSnapshot().Single(m => (string?)m.Tags["reason"] == "queue_full").Value);
        store.Block.SetResult();
        await Eventually(() => store.Stored.Count == 101, "the queued writes are stored once the store answers");
        await trail.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task StoreUnavailableOrFailing_DropsTheWrites_CountsThem_AndKeepsGoing()
    {
        var store = new FakeStore { IsAvailable = false };
        var (trail, metrics) = Trail(store);
        await trail.StartAsync(TestContext.Current.CancellationToken);

        trail.Write(MemoryAuditStoreTests.Record("down", Start), AuditStage.Opened);
        await Eventually(() => metrics.Audit.Dropped == 1, "the write while Redis is down is dropped");
        store.IsAvailable = true;
        store.Fail = true;
        trail.Write(MemoryAuditStoreTests.Record("failing", Start), AuditStage.Opened);
        await Eventually(() => metrics.Audit.Dropped == 2, "the write the store fails is dropped");
        store.Fail = false;
        trail.Write(MemoryAuditStoreTests.Record("back", Start), AuditStage.Opened);

        await Eventually(() => store.Stored.Count == 1, "writes are stored again once the store is back");
        Assert.Equal("back", store.Stored[0].Record.Id);
        await trail.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Stop_StoresWhatIsStillQueued()
    {
        var store = new FakeStore { Block = new TaskCompletionSource() };
        var (trail, _) = Trail(store);
        await trail.StartAsync(TestContext.Current.CancellationToken);
        trail.Write(MemoryAuditStoreTests.Record("first", Start), AuditStage.Opened);
        await store.Entered.Task.WaitAsync(Soon, TestContext.Current.CancellationToken);
        trail.Write(MemoryAuditStoreTests.Record("last", Start) with { End = Start, CloseCode = 1012, CloseReason = "draining" }, AuditStage.Closed);

        var stopping = trail.StopAsync(TestContext.Current.CancellationToken);
        store.Block.SetResult();
        await stopping.WaitAsync(Soon, TestContext.Current.CancellationToken);

        Assert.Equal(["first", "last"], store.Stored.Select(w => w.Record.Id));
    }

    private static (AuditTrail Trail, TrailMetrics Metrics) Trail(FakeStore store, int queueCapacity = 10_000)
    {
        var relay = new RelayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var metrics = new AuditMetrics(relay);
        var trail = new AuditTrail(store, metrics, Options.Create(new AuditOptions { QueueCapacity = queueCapacity }), TimeProvider.System, NullLogger<AuditTrail>.Instance);
        return (trail, new TrailMetrics(metrics, relay.Meter));
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private sealed record TrailMetrics(AuditMetrics Audit, Meter Meter);

    private sealed class FakeStore : IAuditStore
    {
        private readonly Lock _gate = new();
        private readonly List<AuditWrite> _stored = [];

        public TaskCompletionSource? Block { get; init; }

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public volatile bool IsAvailable = true;

        public volatile bool Fail;

        public bool Durable => true;

        public bool Available => IsAvailable;

        public List<AuditWrite> Stored
        {
            get
            {
                lock (_gate)
                {
                    return [.. _stored];
                }
            }
        }

        public List<AuditRecord> Rehearsed { get; } = [];

        public void Rehearse(AuditRecord record) => Rehearsed.Add(record);

        public async Task WriteAsync(IReadOnlyList<AuditWrite> writes, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            if (Block is not null)
            {
                await Block.Task;
            }

            if (Fail)
            {
                throw new TimeoutException("test failure");
            }

            lock (_gate)
            {
                _stored.AddRange(writes);
            }
        }

        public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
