using System.Buffers.Binary;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// What playback needs to know of a recording without reading its screen data: where its keyframes are (to start a
/// player near any moment), the ServerInit and the pixel formats in force (to greet the browser), when input happened
/// (markers on the seek bar), how long it lasts and whether it ended properly. Built by one pass over the record headers
/// (<see cref="RecordingFileReader.TryReadNext"/> with no payloads) plus the few small records it keeps.
/// </summary>
public sealed class RecordingIndex
{
    /// <summary>Most buckets of input markers handed to the page: enough for a seek bar's pixels, small for any recording.</summary>
    public const int MaxInputBuckets = 500;

    private const int PixelFormatLength = 16;
    private const byte SetPixelFormatType = 0;
    private const int SetPixelFormatLength = 20;

    private readonly List<RecordingKeyframe> _keyframes;
    private readonly List<(long Offset, byte[] PixelFormat)> _pixelFormats;
    private readonly SortedDictionary<uint, int> _inputsPerSecond;

    private RecordingIndex(long length, byte[] serverInit, List<RecordingKeyframe> keyframes, List<(long, byte[])> pixelFormats,
        SortedDictionary<uint, int> inputsPerSecond, uint durationMs, bool complete, RecordingSummary summary)
    {
        Length = length;
        ServerInit = serverInit;
        _keyframes = keyframes;
        _pixelFormats = pixelFormats;
        _inputsPerSecond = inputsPerSecond;
        DurationMs = durationMs;
        Complete = complete;
        Summary = summary;
    }

    /// <summary>The file's length when it was indexed: a recording still being written is indexed again when it grew.</summary>
    public long Length { get; }

    /// <summary>The ServerInit message the browser saw.</summary>
    public ReadOnlyMemory<byte> ServerInit { get; }

    /// <summary>Where playback can start, in time order; never empty.</summary>
    public IReadOnlyList<RecordingKeyframe> Keyframes => _keyframes;

    /// <summary>Time of the last record: the recording's length.</summary>
    public uint DurationMs { get; }

    /// <summary>True when the recording has its End record: the session ended, its node did not die under it.</summary>
    public bool Complete { get; }

    /// <summary>Who and what was recorded, from the Metadata record.</summary>
    public RecordingSummary Summary { get; }

    /// <summary>Reads the index of the recording in <paramref name="stream"/> (readable, seekable); <see cref="InvalidDataException"/>
    /// when it is not a recording or has no ServerInit or no screen data to start from.</summary>
    public static RecordingIndex Build(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var length = stream.Length;
        var reader = RecordingFileReader.Open(stream);
        var keyframes = new List<RecordingKeyframe>();
        var sizedKeyframes = new Dictionary<long, long>(); // where a keyframe's update starts -> its record, which holds a size
        var setups = new List<long>();
        var inputs = new SortedDictionary<uint, int>();
        long? metadata = null;
        long? serverInit = null;
        long? firstData = null;
        uint firstDataMs = 0;
        uint duration = 0;
        var complete = false;
        while (reader.TryReadNext(out var record, withPayload: false))
        {
            duration = Math.Max(duration, record.TimeMs);
            switch (record.Kind)
            {
                case RecordingRecordKind.Metadata:
                    metadata ??= record.Offset;
                    break;
                case RecordingRecordKind.ServerInit:
                    serverInit ??= record.Offset;
                    break;
                case RecordingRecordKind.ClientSetup when record.PayloadLength == SetPixelFormatLength:
                    setups.Add(record.Offset);
                    break;
                case RecordingRecordKind.Keyframe:
                    keyframes.Add(new RecordingKeyframe(record.TimeMs, reader.Position));
                    if (record.PayloadLength == RecordingFormat.KeyframeSizeLength)
                    {
                        sizedKeyframes[reader.Position] = record.Offset;
                    }

                    break;
                case RecordingRecordKind.ServerData when firstData is null:
                    firstData = record.Offset;
                    firstDataMs = record.TimeMs;
                    break;
                case RecordingRecordKind.Input:
                    var second = record.TimeMs / 1000;
                    inputs[second] = inputs.GetValueOrDefault(second) + 1;
                    break;
                case RecordingRecordKind.End:
                    complete = true;
                    break;
            }
        }

        if (serverInit is null || firstData is null)
        {
            throw new InvalidDataException("the recording has no ServerInit or no screen data yet");
        }

        // The server's first answer after ServerInit is the browser's first, full-screen request: a keyframe of its own
        // even when the recorder marks none there.
        if (keyframes.Count == 0 || keyframes[0].Offset > firstData)
        {
            keyframes.Insert(0, new RecordingKeyframe(firstDataMs, firstData.Value));
        }

        for (var i = 0; i < keyframes.Count; i++)
        {
            if (sizedKeyframes.TryGetValue(keyframes[i].Offset, out var sizeRecord))
            {
                var size = ReadPayload(stream, sizeRecord);
                keyframes[i] = keyframes[i] with { Width = BinaryPrimitives.ReadUInt16BigEndian(size), Height = BinaryPrimitives.ReadUInt16BigEndian(size.AsSpan(2)) };
            }
        }

        var serverInitBytes = ReadPayload(stream, serverInit.Value);
        if (serverInitBytes.Length < Rfb.RfbServerInit.FixedLength)
        {
            throw new InvalidDataException($"the recording's ServerInit has {serverInitBytes.Length} bytes: RFB's has at least {Rfb.RfbServerInit.FixedLength}");
        }

        var pixelFormats = new List<(long, byte[])> { (0, serverInitBytes.AsSpan(4, PixelFormatLength).ToArray()) };
        foreach (var offset in setups)
        {
            var setup = ReadPayload(stream, offset);
            if (setup[0] == SetPixelFormatType)
            {
                pixelFormats.Add((offset, setup.AsSpan(4, PixelFormatLength).ToArray()));
            }
        }

        var summary = metadata is { } at ? RecordingSummary.Parse(ReadPayload(stream, at)) : RecordingSummary.Unknown;
        return new RecordingIndex(length, serverInitBytes, keyframes, pixelFormats, inputs, duration, complete && !reader.Truncated, summary);
    }

    /// <summary>The ServerInit to greet a browser with when playback starts at <paramref name="keyframe"/>: the recorded
    /// one, with the size the screen had at that keyframe when the server had resized it (noVNC sizes its canvas from
    /// ServerInit and would clip, or refuse, an update of another size).</summary>
    public byte[] ServerInitAt(RecordingKeyframe keyframe)
    {
        var serverInit = ServerInit.ToArray();
        if (keyframe is { Width: > 0, Height: > 0 })
        {
            BinaryPrimitives.WriteUInt16BigEndian(serverInit, keyframe.Width);
            BinaryPrimitives.WriteUInt16BigEndian(serverInit.AsSpan(2), keyframe.Height);
        }

        return serverInit;
    }

    /// <summary>The last keyframe at or before <paramref name="atMs"/>, or the first when it is earlier than all.</summary>
    public RecordingKeyframe KeyframeAt(uint atMs)
    {
        int low = 0, high = _keyframes.Count - 1;
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (_keyframes[middle].TimeMs <= atMs)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return _keyframes[low];
    }

    /// <summary>The pixel format (16 bytes, RFC 6143 section 7.4) the server data at <paramref name="offset"/> is encoded
    /// in: the browser's last SetPixelFormat before it, or the ServerInit's when it sent none.</summary>
    public ReadOnlyMemory<byte> PixelFormatAt(long offset) => _pixelFormats.Last(p => p.Offset < offset).PixelFormat;

    /// <summary>Input markers for a seek bar: the recording cut into at most <see cref="MaxInputBuckets"/> spans of
    /// <paramref name="bucketMs"/> (whole seconds), and how many inputs each span that had any holds.</summary>
    public IReadOnlyList<RecordingInputBucket> InputBuckets(out uint bucketMs)
    {
        var seconds = DurationMs / 1000 + 1;
        var perBucket = (seconds + MaxInputBuckets - 1) / MaxInputBuckets;
        bucketMs = perBucket * 1000;
        var buckets = new List<RecordingInputBucket>();
        foreach (var (second, count) in _inputsPerSecond)
        {
            var start = second / perBucket * bucketMs;
            if (buckets.Count > 0 && buckets[^1].AtMs == start)
            {
                buckets[^1] = buckets[^1] with { Count = buckets[^1].Count + count };
            }
            else
            {
                buckets.Add(new RecordingInputBucket(start, count));
            }
        }

        return buckets;
    }

    private static byte[] ReadPayload(Stream stream, long offset)
    {
        var reader = RecordingFileReader.OpenAt(stream, offset);
        if (!reader.TryReadNext(out var record))
        {
            throw new InvalidDataException($"the record at {offset} of the recording cannot be read again");
        }

        return record.Payload.ToArray();
    }
}
