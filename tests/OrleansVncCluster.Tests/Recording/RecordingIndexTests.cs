using System.Text;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.Tests.Recording;

/// <summary>The playback index (issue 14): keyframes to start from, the pixel format in force, input markers, length,
/// and whether the recording ended properly, from one pass over the record headers.</summary>
public sealed class RecordingIndexTests
{
    private static readonly byte[] ServerInit = [0, 64, 0, 48, 32, 24, 1, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0, 0, 0, 0, 1, (byte)'x'];
    private static readonly byte[] NoVncFormat = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0];

    /// <summary>Metadata, ServerInit, then 100 s with a keyframe every 10 s, server data every second, an input every 3 s
    /// and noVNC's SetPixelFormat at 25 s; an End at 100 s unless <paramref name="complete"/> is false.</summary>
    private static MemoryStream Recording(bool complete = true)
    {
        var file = new MemoryStream();
        var writer = new RecordingFileWriter(file, TimeProvider.System);
        writer.WriteAt(RecordingRecordKind.Metadata, 0, Encoding.UTF8.GetBytes("""{"id":"r","sessionId":"s","vmName":"web-01","user":"alice","client":"192.0.2.7","start":"2026-12-02T10:00:00+00:00","node":"secret-node"}"""));
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit);
        for (var second = 0u; second < 100; second++)
        {
            if (second == 25)
            {
                writer.WriteAt(RecordingRecordKind.ClientSetup, 25_000, NoVncFormat);
            }

            if (second % 10 == 0)
            {
                writer.WriteAt(RecordingRecordKind.Keyframe, second * 1000, []);
            }

            writer.WriteAt(RecordingRecordKind.ServerData, second * 1000, [0, 0, 0, 0]);
            if (second % 3 == 0)
            {
                writer.WriteAt(RecordingRecordKind.Input, (second * 1000) + 1, new byte[RecordingInput.Size]);
            }
        }

        if (complete)
        {
            writer.WriteAt(RecordingRecordKind.End, 100_000, "{}"u8);
        }

        file.Position = 0;
        return file;
    }

    [Fact]
    public void Index_FindsEveryKeyframe_TheLengthAndTheEnd()
    {
        var index = RecordingIndex.Build(Recording());

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (uint)i * 10_000), index.Keyframes.Select(k => k.TimeMs));
        Assert.Equal(100_000u, index.DurationMs);
        Assert.True(index.Complete);
    }

    [Theory]
    [InlineData(0u, 0u)]
    [InlineData(9_999u, 0u)]
    [InlineData(10_000u, 10_000u)]
    [InlineData(42_500u, 40_000u)]
    [InlineData(uint.MaxValue, 90_000u)]
    public void KeyframeAt_IsTheLastKeyframeAtOrBeforeTheMoment(uint at, uint keyframe)
    {
        Assert.Equal(keyframe, RecordingIndex.Build(Recording()).KeyframeAt(at).TimeMs);
    }

    [Fact]
    public void KeyframeOffset_IsTheServerDataThatStartsTheUpdate()
    {
        var file = Recording();
        var index = RecordingIndex.Build(file);

        var reader = RecordingFileReader.OpenAt(file, index.KeyframeAt(30_000).Offset);
        Assert.True(reader.TryReadNext(out var record));
        Assert.Equal((RecordingRecordKind.ServerData, 30_000u), (record.Kind, record.TimeMs));
    }

    [Fact]
    public void PixelFormat_IsTheServersUntilTheBrowserSetsItsOwn()
    {
        var index = RecordingIndex.Build(Recording());

        Assert.Equal(ServerInit.AsSpan(4, 16).ToArray(), index.PixelFormatAt(index.KeyframeAt(20_000).Offset).ToArray());
        Assert.Equal(NoVncFormat.AsSpan(4, 16).ToArray(), index.PixelFormatAt(index.KeyframeAt(30_000).Offset).ToArray());
    }

    [Fact]
    public void InputBuckets_CountEveryInput_InWholeSecondsPerBucket()
    {
        var buckets = RecordingIndex.Build(Recording()).InputBuckets(out var bucketMs);

        Assert.Equal(1000u, bucketMs);
        Assert.Equal(34, buckets.Sum(b => b.Count));
        Assert.Equal(3000u, buckets[1].AtMs);
    }

    [Fact]
    public void InputBuckets_OfAnHour_AreAtMostFiveHundred()
    {
        var file = new MemoryStream();
        var writer = new RecordingFileWriter(file, TimeProvider.System);
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit);
        writer.WriteAt(RecordingRecordKind.ServerData, 0, [0]);
        for (var second = 0u; second < 3600; second++)
        {
            writer.WriteAt(RecordingRecordKind.Input, second * 1000, new byte[RecordingInput.Size]);
        }

        file.Position = 0;
        var buckets = RecordingIndex.Build(file).InputBuckets(out var bucketMs);

        Assert.InRange(buckets.Count, 1, RecordingIndex.MaxInputBuckets);
        Assert.Equal(8000u, bucketMs);
        Assert.Equal(3600, buckets.Sum(b => b.Count));
    }

    [Fact]
    public void RecordingWithoutEnd_IsNotComplete()
    {
        Assert.False(RecordingIndex.Build(Recording(complete: false)).Complete);
    }

    [Fact]
    public void PlaybackFromAKeyframeAfterAResize_GreetsWithTheSizeThen()
    {
        var file = new MemoryStream();
        var writer = new RecordingFileWriter(file, TimeProvider.System);
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit);
        writer.WriteAt(RecordingRecordKind.Keyframe, 0, []);
        writer.WriteAt(RecordingRecordKind.ServerData, 0, [0, 0, 0, 0]);
        writer.WriteAt(RecordingRecordKind.Keyframe, 10_000, [5, 0, 3, 32]);
        writer.WriteAt(RecordingRecordKind.ServerData, 10_000, [0, 0, 0, 0]);
        file.Position = 0;

        var index = RecordingIndex.Build(file);

        Assert.Equal(ServerInit, index.ServerInitAt(index.KeyframeAt(0)));
        var resized = index.ServerInitAt(index.KeyframeAt(10_000));
        Assert.Equal([5, 0, 3, 32], resized[..4]);
        Assert.Equal(ServerInit[4..], resized[4..]);
        Assert.Equal(ServerInit, index.ServerInit.ToArray());
    }

    [Fact]
    public void RecordingWithoutKeyframes_StartsAtItsFirstServerData()
    {
        var file = new MemoryStream();
        var writer = new RecordingFileWriter(file, TimeProvider.System);
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit);
        writer.WriteAt(RecordingRecordKind.ServerData, 120, [0, 0, 0, 0]);
        file.Position = 0;

        var keyframe = Assert.Single(RecordingIndex.Build(file).Keyframes);
        Assert.Equal(120u, keyframe.TimeMs);
    }

    [Fact]
    public void Summary_KeepsOnlyTheVmTheUserAndTheStart()
    {
        var summary = RecordingIndex.Build(Recording()).Summary;

        Assert.Equal(new RecordingSummary("web-01", "alice", new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero)), summary);
    }

    [Fact]
    public void FileThatIsNoRecording_IsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => RecordingIndex.Build(new MemoryStream("not a recording"u8.ToArray())));
    }
}
