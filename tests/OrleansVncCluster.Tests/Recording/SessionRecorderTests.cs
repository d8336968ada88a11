using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Recording;

/// <summary>What a session's recorder writes as the RFB layer parses both directions: encodings a recording can start
/// at, keyframes at update boundaries whatever the chunking, input without key values.</summary>
public sealed class SessionRecorderTests
{
    private static readonly byte[] Bell = [2];

    /// <summary>A FramebufferUpdate with one Raw 2x1 rectangle at 32 bits per pixel.</summary>
    private static readonly byte[] Update = [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, .. Enumerable.Repeat((byte)7, 8)];

    private static readonly byte[] CutText = [3, 0, 0, 0, 0, 0, 0, 2, (byte)'h', (byte)'i'];

    public static TheoryData<int> Chunkings => [1, 2, 3, 5, 7, 1024];

    [Fact]
    public void ARecordedSession_AsksOnlyForEncodingsARecordingCanStartAt_AndRecordsThemAsForwarded()
    {
        var session = new Session();

        var forwarded = session.Browse(EncodingsMessage(16, 6, 7, 5, 0, -313, -223, -239));

        Assert.Equal(EncodingsMessage(1, 1, 1, 5, 0, 0, -223, -239), forwarded);
        Assert.Equal([EncodingsMessage(1, 1, 1, 5, 0, 0, -223, -239)], session.Records(RecordingRecordKind.ClientSetup));
    }

    [Theory]
    [MemberData(nameof(Chunkings))]
    public void Keyframes_MarkTheStartOfTheUpdateAfterAFullRequest_WhereverTheServerStreamIsSplit(int chunk)
    {
        var session = new Session();

        // The first request becomes a full one; the next, within the interval, stays incremental; after it, full again.
        var first = session.Browse(UpdateRequest(incremental: true));
        session.Serve([.. Bell, .. Update], chunk);
        var second = session.Browse(UpdateRequest(incremental: true));
        session.Serve(Update, chunk);
        session.Time.Advance(TimeSpan.FromSeconds(10));
        var third = session.Browse(UpdateRequest(incremental: true));
        session.Serve([.. CutText, .. Update], chunk);

        Assert.Equal([0, 1, 0], new[] { first[1], second[1], third[1] });
        var (stream, keyframes) = session.ServerStream();
        Assert.Equal([.. Bell, .. Update, .. Update, .. CutText, .. Update], stream);
        Assert.Equal([Bell.Length, Bell.Length + (2 * Update.Length) + CutText.Length], keyframes);
    }

    [Theory]
    [InlineData(-223, 1)]
    [InlineData(-308, 7)]
    public void AKeyframeAfterAResize_HoldsTheScreensNewSize(int encoding, int chunk)
    {
        var session = new Session();
        // A FramebufferUpdate of one pseudo-rectangle: the screen is now 1280x800 (ExtendedDesktopSize adds one screen).
        byte[] screens = encoding == -308 ? [1, 0, 0, 0, .. new byte[16]] : [];
        byte[] resize = [0, 0, 0, 1, 0, 0, 0, 0, 5, 0, 3, 32, .. BitConverter.GetBytes(System.Net.IPAddress.HostToNetworkOrder(encoding)), .. screens];

        session.Browse(UpdateRequest(incremental: false));
        session.Serve(Update, chunk);
        session.Browse(UpdateRequest(incremental: true));
        session.Serve(resize, chunk);
        session.Browse(UpdateRequest(incremental: false));
        session.Serve(Update, chunk);

        var keyframes = session.Records(RecordingRecordKind.Keyframe);
        Assert.Equal(2, keyframes.Count);
        Assert.Empty(keyframes[0]);
        Assert.Equal([5, 0, 3, 32], keyframes[1]);
    }

    [Fact]
    public void Input_IsRecordedWhenItHappened_WithoutKeyValuesUnlessAskedFor()
    {
        var session = new Session();
        var kept = new Session(keyValues: true);
        byte[] input = [4, 1, 0, 0, 0, 0, 0, 0x61, 5, 3, 0, 10, 0, 20, 6, 0, 0, 0, 0, 0, 0, 3, (byte)'a', (byte)'b', (byte)'c'];

        session.Browse(input);
        kept.Browse(input);
        session.Serve(CutText, 1);

        Assert.Equal(
            [new(RecordingInputKind.Key, 1, 0, 0, 0), new(RecordingInputKind.Pointer, 3, 0, 10, 20), new(RecordingInputKind.ClipboardToVm, 0, 3, 0, 0),
                new RecordingInput(RecordingInputKind.ClipboardFromVm, 0, 2, 0, 0)],
            session.Inputs());
        Assert.Equal(0x61u, kept.Inputs()[0].Value);
    }

    [Theory]
    [InlineData("off", null, null, false, RecordingMode.Off)]
    [InlineData("on", null, null, false, RecordingMode.On)]
    [InlineData("off", "acme", "required", false, RecordingMode.Required)]
    [InlineData("required", "acme", "off", false, RecordingMode.Off)]
    [InlineData("on", "other", "off", false, RecordingMode.On)]
    [InlineData("off", null, null, true, RecordingMode.Required)]
    public void TheEnterpriseOverridesTheCluster_AndATicketsAskMakesItRequired(string cluster, string? enterprise, string? enterpriseMode, bool ticket, RecordingMode expected)
    {
        var options = new RecordingOptions { Mode = cluster, Directory = "/var/lib/vnc-relay/recordings" };
        if (enterpriseMode is not null)
        {
            options.Enterprises["ACME"] = enterpriseMode;
        }

        Assert.Equal(expected, options.ModeFor(enterprise, ticket));
    }

    [Fact]
    public void Options_ThatCannotWork_AreRefusedAtStartUpSayingWhatToFix()
    {
        var options = new RecordingOptions { Mode = "always", KeyframeInterval = TimeSpan.Zero, MaxDiskBytes = -1, Retention = TimeSpan.FromMinutes(1) };
        options.Enterprises["acme"] = "required";

        var result = new RecordingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Recording:Mode is 'always'", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Recording:Enterprises:acme is 'required' but Recording:Directory is empty", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Recording:KeyframeInterval", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Recording:MaxDiskBytes", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Recording:Retention", result.FailureMessage, StringComparison.Ordinal);
        Assert.Equal(ValidateOptionsResult.Success, new RecordingOptionsValidator().Validate(null, new RecordingOptions()));
    }

    private static byte[] UpdateRequest(bool incremental) => [3, incremental ? (byte)1 : (byte)0, 0, 0, 0, 0, 0, 2, 0, 1];

    /// <summary>Both directions of a recorded session as the relay wires them: the filter and the reader ask a policy
    /// that tells the recorder, and what they forward is handed to it.</summary>
    private sealed class Session : IRfbClientMessagePolicy, IRfbServerMessagePolicy
    {
        private readonly MemoryStream _file = new();
        private readonly SessionRecorder _recorder;
        private readonly RfbClientMessageFilter _filter;
        private readonly RfbServerMessageReader _reader;

        public Session(bool keyValues = false)
        {
            var options = new RecordingOptions { KeyframeInterval = TimeSpan.FromSeconds(10), IncludeKeyValues = keyValues };
            _recorder = new SessionRecorder("r", "r.vncrec", new RecordingFileWriter(_file, Time), options, Time, _ => { });
            _reader = new RfbServerMessageReader(this, 32);
            _filter = new RfbClientMessageFilter(this) { ServerReader = _reader, RecordedEncodingsOnly = true };
        }

        public FakeTimeProvider Time { get; } = new();

        public RfbMessageVerdict Decide(in RfbClientMessage message) => _recorder.Browser(message, RfbMessageVerdict.Forward);

        public RfbMessageVerdict Decide(in RfbServerMessage message)
        {
            _recorder.Server(message, RfbMessageVerdict.Forward);
            return RfbMessageVerdict.Forward;
        }

        public byte[] Browse(byte[] bytes)
        {
            var buffer = new byte[RfbClientMessageFilter.Headroom + bytes.Length];
            bytes.CopyTo(buffer, RfbClientMessageFilter.Headroom);
            var result = _filter.Filter(buffer, bytes.Length);
            Assert.Null(result.Error);
            var forwarded = buffer.AsSpan(result.Offset, result.Count);
            _recorder.BrowserForwarded(forwarded);
            return forwarded.ToArray();
        }

        public void Serve(byte[] bytes, int chunk)
        {
            for (var at = 0; at < bytes.Length; at += chunk)
            {
                var piece = bytes.AsSpan(at, Math.Min(chunk, bytes.Length - at));
                var buffer = new byte[RfbServerMessageReader.Headroom + piece.Length];
                piece.CopyTo(buffer.AsSpan(RfbServerMessageReader.Headroom));
                var result = _reader.Filter(buffer, piece.Length);
                Assert.Null(result.Error);
                _recorder.ServerForwarded(buffer.AsSpan(result.Offset, result.Count));
            }
        }

        public List<byte[]> Records(RecordingRecordKind kind) => [.. ReadAll().Where(r => r.Kind == kind).Select(r => r.Payload)];

        public List<RecordingInput> Inputs() =>
            [.. Records(RecordingRecordKind.Input).Select(p => RecordingInput.TryRead(p, out var input) ? input : throw new InvalidDataException())];

        public (byte[] Stream, List<int> Keyframes) ServerStream()
        {
            var stream = new List<byte>();
            var keyframes = new List<int>();
            foreach (var (kind, payload) in ReadAll())
            {
                if (kind == RecordingRecordKind.Keyframe)
                {
                    keyframes.Add(stream.Count);
                }
                else if (kind == RecordingRecordKind.ServerData)
                {
                    stream.AddRange(payload);
                }
            }

            return ([.. stream], keyframes);
        }

        private List<(RecordingRecordKind Kind, byte[] Payload)> ReadAll()
        {
            _recorder.Flush();
            var reader = RecordingFileReader.Open(new MemoryStream(_file.ToArray()));
            var records = new List<(RecordingRecordKind, byte[])>();
            while (reader.TryReadNext(out var record))
            {
                records.Add((record.Kind, record.Payload.ToArray()));
            }

            return records;
        }
    }
}
