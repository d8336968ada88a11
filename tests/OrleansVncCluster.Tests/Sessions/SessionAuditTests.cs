using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>What a session's history record says: the close its owner decided, its input counts, and its checkpoints.</summary>
public sealed class SessionAuditTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task BrowserClose_IsRecordedWithTheBrowsersCodeAndReason()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", TestContext.Current.CancellationToken);
        await run.WaitAsync(Soon, TestContext.Current.CancellationToken);

        var record = SessionAudit.RecordOf(rig.Session, "node1", DateTimeOffset.UnixEpoch.AddMinutes(1));
        Assert.Equal((1000, "bye"), (record.CloseCode!.Value, record.CloseReason!));
    }

    [Fact]
    public async Task BrowserCloseWithoutAReason_IsRecordedAsClosedByTheBrowser()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        await run.WaitAsync(Soon, TestContext.Current.CancellationToken);

        Assert.Equal((1000, SessionForwarder.BrowserClosedText), rig.Session.Ended);
    }

    [Fact]
    public async Task StopFromOutside_IsRecordedWithTheCodeAndReasonTheBrowserWasSent()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var run = rig.ForwardAsync();

        rig.Session.RequestStop(WebSocketCloseStatus.PolicyViolation, "console closed by an administrator");
        var received = new byte[1024];
        var close = await rig.Browser.ReceiveAsync(received, TestContext.Current.CancellationToken);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        await run.WaitAsync(Soon, TestContext.Current.CancellationToken);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, close.CloseStatus);
        Assert.Equal((1008, "console closed by an administrator"), rig.Session.Ended);
    }

    [Fact]
    public async Task ViewSession_RecordsTheInputItsBrowserSent_WithoutItsValues()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ViewOnly = true });
        rig.Session.InputFilter = filter;
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: filter, frames: rig.Frames);

        // Two key events, one pointer event, a 5-byte clipboard text: all dropped by the view policy, all counted.
        byte[] input = [4, 1, 0, 0, 0, 0, 0, 0x61, 4, 0, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 10, 0, 10, 6, 0, 0, 0, 0, 0, 0, 5, .. "hello"u8];
        await rig.Browser.SendAsync(input, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => filter.DroppedClipboardBytes == 5, "the clipboard text to pass the filter");
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        await run.WaitAsync(Soon, TestContext.Current.CancellationToken);

        var record = SessionAudit.RecordOf(rig.Session, "node1", DateTimeOffset.UnixEpoch);
        Assert.Equal((2L, 1L, 5L), (record.KeyEvents, record.PointerEvents, record.ClipboardBytes));
        Assert.DoesNotContain("hello", System.Text.Json.JsonSerializer.Serialize(record), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoint_RewritesOnlySessionsWhoseBytesMoved_AndNeverOneWhoseFinalRecordIsQueued()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new MemoryAuditStore(new Monitor<AuditOptions>(new AuditOptions()), time);
        var relay = new RelayMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var trail = new AuditTrail(store, new AuditMetrics(relay), Options.Create(new AuditOptions()), time, NullLogger<AuditTrail>.Instance);
        var registry = new SessionRegistry(new Monitor<RelayOptions>(new RelayOptions()), time);
        var audit = new SessionAudit(trail, registry, new FakeSilo(), new Monitor<AuditOptions>(new AuditOptions()), time);
        var quiet = Session("quiet");
        var busy = Session("busy");
        var ended = Session("ended");
        foreach (var session in new[] { quiet, busy, ended })
        {
            registry.Add(session);
            audit.Opened(session);
        }

        busy.AddToClient(100);
        ended.AddToClient(100);
        audit.Closed(ended);

        Assert.Equal(1, audit.Checkpoint());
        await trail.StartAsync(TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => store.Count == 3 && store.QueryAsync(new AuditQuery(), default).Result.Any(r => r.Id == "busy" && r.BytesToBrowser == 100), "the checkpoint to be stored");
        await trail.StopAsync(TestContext.Current.CancellationToken);
        var records = (await store.QueryAsync(new AuditQuery(), default)).ToDictionary(r => r.Id);
        Assert.Null(records["busy"].End);
        Assert.NotNull(records["ended"].End);
        Assert.Equal((SessionForwarder.BrowserLostCode, SessionForwarder.BrowserLostText), (records["ended"].CloseCode!.Value, records["ended"].CloseReason!));
        Assert.Equal("fake-silo", records["quiet"].Node);
        Assert.Equal(("alice@acme", null), (records["busy"].User, records["quiet"].User));
        Assert.Equal(new AuditVm { Id = "7", Name = "web", Enterprise = "acme" }, records["quiet"].Vm);
    }

    private static RelaySession Session(string id) =>
        new(id, "token", new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", 5900), Source = "test", Vm = new VmIdentity { Id = "7", Name = "ABQ_7", Label = "web", Enterprise = "acme" } },
            "127.0.0.2", DateTimeOffset.UnixEpoch) { User = id == "busy" ? "alice@acme" : null };

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    private sealed class Monitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
