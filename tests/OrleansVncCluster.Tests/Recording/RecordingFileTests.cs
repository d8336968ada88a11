using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.Tests.Recording;

public sealed class RecordingFileTests
{
    [Fact]
    public void RecordsReadBackInOrder_WithTheirTimesKindsAndPayloads()
    {
        var time = new FakeTimeProvider();
        var file = new MemoryStream();
        using (var writer = new RecordingFileWriter(new NonClosing(file), time))
        {
            writer.Write(RecordingRecordKind.Metadata, "{}"u8);
            time.Advance(TimeSpan.FromMilliseconds(1500));
            writer.Write(RecordingRecordKind.ServerData, [0, 0, 0, 1]);
            var input = new byte[RecordingInput.Size];
            new RecordingInput(RecordingInputKind.Pointer, 1, 0, 640, 480).Write(input);
            writer.Write(RecordingRecordKind.Input, input);
        }

        file.Position = 0;
        var reader = RecordingFileReader.Open(file);
        var kinds = new List<(RecordingRecordKind, uint, byte[])>();
        while (reader.TryReadNext(out var record))
        {
            kinds.Add((record.Kind, record.TimeMs, record.Payload.ToArray()));
        }

        Assert.False(reader.Truncated);
        Assert.Equal([RecordingRecordKind.Metadata, RecordingRecordKind.ServerData, RecordingRecordKind.Input], kinds.Select(k => k.Item1));
        Assert.Equal([0u, 1500u, 1500u], kinds.Select(k => k.Item2));
        Assert.Equal([0, 0, 0, 1], kinds[1].Item3);
        Assert.True(RecordingInput.TryRead(kinds[2].Item3, out var pointer));
        Assert.Equal(new RecordingInput(RecordingInputKind.Pointer, 1, 0, 640, 480), pointer);
    }

    [Fact]
    public void AFileCutInsideARecord_ReadsUpToTheLastWholeRecord_AndSaysItWasCut()
    {
        var file = new MemoryStream();
        using (var writer = new RecordingFileWriter(new NonClosing(file), TimeProvider.System))
        {
            writer.Write(RecordingRecordKind.ServerData, new byte[100]);
            writer.Write(RecordingRecordKind.ServerData, new byte[100]);
        }

        var cut = new MemoryStream(file.ToArray()[..^30]);
        var reader = RecordingFileReader.Open(cut);
        Assert.True(reader.TryReadNext(out var first));
        Assert.Equal(100, first.PayloadLength);
        Assert.False(reader.TryReadNext(out _));
        Assert.True(reader.Truncated);
    }

    [Fact]
    public void ServerDataLargerThanARecord_IsSplit_AndSkippingPayloadsFindsEveryRecord()
    {
        var file = new MemoryStream();
        using (var writer = new RecordingFileWriter(new NonClosing(file), TimeProvider.System))
        {
            writer.WriteAt(RecordingRecordKind.ServerData, 7, new byte[RecordingFormat.MaxPayloadBytes + 10]);
            writer.WriteAt(RecordingRecordKind.Keyframe, 8, []);
        }

        file.Position = 0;
        var reader = RecordingFileReader.Open(file);
        var lengths = new List<int>();
        var keyframeOffset = -1L;
        while (reader.TryReadNext(out var record, withPayload: false))
        {
            lengths.Add(record.PayloadLength);
            keyframeOffset = record.Kind == RecordingRecordKind.Keyframe ? record.Offset : keyframeOffset;
        }

        Assert.Equal([RecordingFormat.MaxPayloadBytes, 10, 0], lengths);
        var atKeyframe = RecordingFileReader.OpenAt(file, keyframeOffset);
        Assert.True(atKeyframe.TryReadNext(out var keyframe));
        Assert.Equal((RecordingRecordKind.Keyframe, 8u), (keyframe.Kind, keyframe.TimeMs));
    }

    [Fact]
    public void AFileThatIsNotARecording_IsRefusedWithAReason()
    {
        var error = Assert.Throws<InvalidDataException>(() => RecordingFileReader.Open(new MemoryStream("PNG....."u8.ToArray())));
        Assert.Contains("VNCREC01", error.Message);
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
