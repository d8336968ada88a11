namespace OrleansVncCluster.Relay.Recording;

/// <summary>Reads a recording record by record. A recording cut by a node's death ends in a partial record: the reader
/// stops before it and says so (<see cref="Truncated"/>), so everything flushed before the death plays.</summary>
public sealed class RecordingFileReader
{
    private readonly Stream _stream;
    private readonly byte[] _header = new byte[RecordingFormat.RecordHeaderSize];
    private byte[] _payload = new byte[64 * 1024];
    private long _position;

    private RecordingFileReader(Stream stream, long position)
    {
        _stream = stream;
        _position = position;
    }

    /// <summary>True once a read met a partial or damaged record: the recording ends there.</summary>
    public bool Truncated { get; private set; }

    /// <summary>Where the next record starts, from the file's start.</summary>
    public long Position => _position;

    /// <summary>Opens a recording read from its start; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static RecordingFileReader Open(Stream stream)
    {
        Span<byte> magic = stackalloc byte[RecordingFormat.Magic.Length];
        if (stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) != magic.Length || !magic.SequenceEqual(RecordingFormat.Magic))
        {
            throw new InvalidDataException("not a recording of format version 1 (it does not start with VNCREC01)");
        }

        return new RecordingFileReader(stream, magic.Length);
    }

    /// <summary>Opens a seekable recording at a record's <paramref name="offset"/> found by an earlier read (a keyframe,
    /// for seeking), after checking the magic.</summary>
    public static RecordingFileReader OpenAt(Stream stream, long offset)
    {
        stream.Seek(0, SeekOrigin.Begin);
        var reader = Open(stream);
        stream.Seek(offset, SeekOrigin.Begin);
        reader._position = offset;
        return reader;
    }

    /// <summary>Reads the next record; false at the end of the recording (or of what was flushed of it). With
    /// <paramref name="withPayload"/> false the payload is skipped (seekable streams only), for building an index.</summary>
    public bool TryReadNext(out RecordingRecord record, bool withPayload = true)
    {
        record = default;
        if (Truncated || _stream.ReadAtLeast(_header, _header.Length, throwOnEndOfStream: false) is var got && got == 0)
        {
            return false;
        }

        if (got < _header.Length || !RecordingFormat.TryReadHeader(_header, out var kind, out var timeMs, out var length))
        {
            Truncated = true;
            return false;
        }

        var offset = _position;
        Memory<byte> payload = default;
        if (withPayload)
        {
            if (_payload.Length < length)
            {
                _payload = new byte[Math.Max(length, _payload.Length * 2)];
            }

            payload = _payload.AsMemory(0, length);
            if (_stream.ReadAtLeast(payload.Span, length, throwOnEndOfStream: false) < length)
            {
                Truncated = true;
                return false;
            }
        }
        else if (_stream.Seek(length, SeekOrigin.Current) > _stream.Length)
        {
            Truncated = true;
            return false;
        }

        _position = offset + _header.Length + length;
        record = new RecordingRecord(kind, timeMs, offset, length, payload);
        return true;
    }
}
