using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>The clipboard policy of a session (issue 13, item 4): the cluster's default narrowed by the ticket, the
/// directions it parses, and its refusals counted and logged without their contents.</summary>
public sealed class SessionPolicyTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private static readonly byte[] Bell = [2];

    private readonly RelayMetrics _metrics = new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
    private readonly FakeLogger<SessionPolicy> _logger = new();

    [Theory]
    [InlineData("both", ClipboardDirections.Both, 0, false, ClipboardDirections.Both, false, false)]
    [InlineData("both", ClipboardDirections.Both, 0, true, ClipboardDirections.Both, true, false)]
    [InlineData("both", ClipboardDirections.ToVm, 0, false, ClipboardDirections.ToVm, true, true)]
    [InlineData("both", ClipboardDirections.FromVm, 0, false, ClipboardDirections.FromVm, true, false)]
    [InlineData("to-vm", ClipboardDirections.Both, 0, false, ClipboardDirections.ToVm, true, true)]
    [InlineData("to-vm", ClipboardDirections.FromVm, 0, false, ClipboardDirections.None, true, true)]
    [InlineData("none", ClipboardDirections.Both, 0, false, ClipboardDirections.None, true, true)]
    [InlineData("both", ClipboardDirections.Both, 1024, false, ClipboardDirections.Both, true, true)]
    public void TheTicketOnlyNarrowsTheClusterDefault_AndOnlyRestrictedDirectionsAreParsed(
        string cluster, ClipboardDirections ticket, long cap, bool viewOnly, ClipboardDirections expected, bool readsBrowser, bool readsServer)
    {
        var policy = Policies(cluster, cap).For(Session(viewOnly), ticket);

        Assert.Equal(expected, policy.Clipboard);
        Assert.Equal((readsBrowser, readsServer), (policy.ReadsBrowser, policy.ReadsServer));
        Assert.Equal(readsServer, policy.ServerReader(ServerInit()) is not null);
        Assert.Equal(readsBrowser, policy.BrowserFilter(null) is not null);
    }

    [Fact]
    public void ARefusalEachWay_IsCountedAndLogged_WithoutItsContents()
    {
        using var refused = new MetricCollector<long>(_metrics.Meter, "vnc_relay_clipboard_refused");
        using var refusedBytes = new MetricCollector<long>(_metrics.Meter, "vnc_relay_clipboard_refused_bytes");
        var policy = Policies("none", 0).For(Session(viewOnly: false), ClipboardDirections.Both);
        var reader = policy.ServerReader(ServerInit())!;
        var filter = policy.BrowserFilter(reader)!;

        Filter(filter, [6, 0, 0, 0, 0, 0, 0, 6, .. "pasted"u8]);
        Filter(reader, [3, 0, 0, 0, 0, 0, 0, 6, .. "copied"u8]);

        Assert.Equal([("to_vm", "policy", 1L), ("from_vm", "policy", 1L)],
            refused.GetMeasurementSnapshot().Select(m => ((string)m.Tags["direction"]!, (string)m.Tags["reason"]!, m.Value)));
        Assert.Equal(12, refusedBytes.GetMeasurementSnapshot().Sum(m => m.Value));
        var lines = _logger.Collector.GetSnapshot().Where(r => r.Id.Id == EventIds.ClipboardRefused).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, line => Assert.DoesNotContain("pasted", line.Message, StringComparison.Ordinal));
        Assert.All(lines, line => Assert.DoesNotContain("copied", line.Message, StringComparison.Ordinal));
        Assert.Contains("6 bytes of clipboard from_vm", lines[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClipboardOverTheCap_IsRefusedEachWay_AsTooLarge()
    {
        using var refused = new MetricCollector<long>(_metrics.Meter, "vnc_relay_clipboard_refused");
        var policy = Policies("both", 4).For(Session(viewOnly: false), ClipboardDirections.Both);
        var reader = policy.ServerReader(ServerInit())!;
        var filter = policy.BrowserFilter(reader)!;

        var toVm = Filter(filter, [6, 0, 0, 0, 0, 0, 0, 4, .. "four"u8, 6, 0, 0, 0, 0, 0, 0, 5, .. "fives"u8]);
        var fromVm = Filter(reader, [3, 0, 0, 0, 0, 0, 0, 5, .. "fives"u8, 3, 0, 0, 0, 0, 0, 0, 4, .. "four"u8]);

        Assert.Equal([6, 0, 0, 0, 0, 0, 0, 4, .. "four"u8], toVm);
        Assert.Equal([3, 0, 0, 0, 0, 0, 0, 4, .. "four"u8], fromVm);
        Assert.All(refused.GetMeasurementSnapshot(), m => Assert.Equal("too_large", m.Tags["reason"]));
        Assert.Equal(2, refused.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public void ABrowserPastingInALoop_IsLoggedOnlyUpToTheLimit_ButCountedEveryTime()
    {
        using var refused = new MetricCollector<long>(_metrics.Meter, "vnc_relay_clipboard_refused");
        var filter = Policies("from-vm", 0).For(Session(viewOnly: false), ClipboardDirections.Both).BrowserFilter(null)!;
        byte[] paste = [6, 0, 0, 0, 0, 0, 0, 1, 0x41];

        Filter(filter, [.. Enumerable.Repeat(paste, SessionPolicy.LoggedRefusals + 10).SelectMany(b => b)]);

        Assert.Equal(SessionPolicy.LoggedRefusals + 10, refused.GetMeasurementSnapshot().Count);
        Assert.Equal(SessionPolicy.LoggedRefusals, _logger.Collector.GetSnapshot().Count(r => r.Id.Id == EventIds.ClipboardRefused));
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == EventIds.ClipboardRefusalsQuiet);
    }

    [Fact]
    public async Task Forwarder_WithAServerReader_DropsTheVmsClipboard_AndRelaysTheRest()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var policy = Policies("to-vm", 0).For(rig.Session, ClipboardDirections.Both);
        var reader = policy.ServerReader(ServerInit())!;
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, filter: policy.BrowserFilter(reader), reader: reader);
        byte[] update = [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];

        await rig.VncServer.SendAsync((byte[])[.. update, 3, 0, 0, 0, 0, 0, 0, 6, .. "secret"u8, .. Bell], TestContext.Current.CancellationToken);
        var received = await ReceiveAsync(rig.Browser, update.Length + Bell.Length);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);
        await run.WaitAsync(Soon, TestContext.Current.CancellationToken);

        Assert.Equal([.. update, .. Bell], received);
        Assert.Equal(6, reader.DroppedClipboardBytes);
        Assert.Equal(update.Length + Bell.Length, rig.Session.BytesToClient);
    }

    [Fact]
    public async Task Forwarder_ARectangleTheReaderCannotWalk_EndsTheSessionWithTheReason()
    {
        await using var rig = await ForwarderRig.StartAsync();
        var reader = Policies("none", 0).For(rig.Session, ClipboardDirections.Both).ServerReader(ServerInit())!;
        var run = rig.Forwarder.ForwardAsync(rig.RelayClient, rig.Target, rig.Session, rig.Options, reader: reader);

        await rig.VncServer.SendAsync((byte[])[.. Bell, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 7, 0x80], TestContext.Current.CancellationToken);
        // What came before the rectangle still goes: the bell and the update's header.
        Assert.Equal([.. Bell, 0, 0, 0, 1], await ReceiveAsync(rig.Browser, 5));
        var close = await rig.Browser.ReceiveAsync(new byte[256], TestContext.Current.CancellationToken);
        await rig.Browser.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", TestContext.Current.CancellationToken);

        Assert.Equal(SessionOutcome.RfbViolation, await run.WaitAsync(Soon, TestContext.Current.CancellationToken));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, close.CloseStatus);
        Assert.Contains("encoding 7", close.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sometimes", 0, "Vnc:Clipboard is 'sometimes'")]
    [InlineData("both", -1, "Vnc:MaxClipboardBytes is -1")]
    public void BadSettings_StopTheNode_WithAMessageThatSaysWhatToFix(string clipboard, long cap, string message)
    {
        var result = new VncOptionsValidator().Validate(null, new VncOptions { Clipboard = clipboard, MaxClipboardBytes = cap });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(clipboard == "both" ? "0 for no cap" : "\"to-vm\"", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("both")]
    [InlineData("To-VM")]
    [InlineData("from-vm")]
    [InlineData("none")]
    public void EveryWrittenChoice_IsAccepted(string clipboard) =>
        Assert.True(new VncOptionsValidator().Validate(null, new VncOptions { Clipboard = clipboard }).Succeeded);

    private SessionPolicies Policies(string clipboard, long cap) =>
        new(new Monitor(new VncOptions { Clipboard = clipboard, MaxClipboardBytes = cap }), _metrics, _logger);

    private static RelaySession Session(bool viewOnly) =>
        new("s1", "token", new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", 5900), Source = "file:test" }, "127.0.0.1", DateTimeOffset.UnixEpoch, viewOnly);

    private static RfbServerInit ServerInit() =>
        RfbServerInit.Create(64, 48, [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0], "fake");

    private static byte[] Filter(RfbClientMessageFilter filter, byte[] input)
    {
        var buffer = new byte[RfbClientMessageFilter.Headroom + input.Length];
        input.CopyTo(buffer, RfbClientMessageFilter.Headroom);
        var result = filter.Filter(buffer, input.Length);
        Assert.Null(result.Error);
        return buffer.AsSpan(result.Offset, result.Count).ToArray();
    }

    private static byte[] Filter(RfbServerMessageReader reader, byte[] input)
    {
        var buffer = new byte[RfbServerMessageReader.Headroom + input.Length];
        input.CopyTo(buffer, RfbServerMessageReader.Headroom);
        var result = reader.Filter(buffer, input.Length);
        Assert.Null(result.Error);
        return buffer.AsSpan(result.Offset, result.Count).ToArray();
    }

    private static async Task<byte[]> ReceiveAsync(WebSocket socket, int count)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var deadline = new CancellationTokenSource(Soon);
        while (received.Count < count)
        {
            var result = await socket.ReceiveAsync(buffer, deadline.Token);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            received.AddRange(buffer.AsSpan(0, result.Count).ToArray());
        }

        return [.. received];
    }

    private sealed class Monitor(VncOptions value) : IOptionsMonitor<VncOptions>
    {
        public VncOptions CurrentValue => value;

        public VncOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<VncOptions, string?> listener) => null;
    }
}
