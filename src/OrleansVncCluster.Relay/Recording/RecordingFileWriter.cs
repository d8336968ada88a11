namespace OrleansVncCluster.Relay.Recording;

/// <summary>Appends records to a recording (<see cref="RecordingFormat"/>). Both directions of a session write to it, so
/// every write takes a lock; the stream behind it should be buffered (a FileStream is), and <see cref="Flush"/> hands
/// what is buffered to the operating system, which keeps it when the process is killed: the owner calls it every
/// second or so, which bounds what a node's death loses.</summary>
public sealed class RecordingFileWriter : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stream _stream;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly byte[] _header = new byte[RecordingFormat.RecordHeaderSize];
    private bool _disposed;

    /// <summary>Starts a recording on <paramref name="stream"/> (written from its current position): the magic first.</summary>
    public RecordingFileWriter(Stream stream, TimeProvider time)
    {
        _stream = stream;
        _time = time;
        _started = time.GetTimestamp();
        _stream.Write(RecordingFormat.Magic);
        BytesWritten = RecordingFormat.Magic.Length;
    }

    /// <summary>Bytes written so far, magic included (what the recording will take on disk).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Milliseconds since the recording started: the time the next record gets.</summary>
    public uint ElapsedMs => (uint)Math.Min(uint.MaxValue, _time.GetElapsedTime(_started).TotalMilliseconds);

    /// <summary>Appends a record stamped now; server data longer than a record holds is split.</summary>
    public void Write(RecordingRecordKind kind, ReadOnlySpan<byte> payload) => WriteAt(kind, ElapsedMs, payload);

    /// <summary>Appends a record with the time given (synthetic recordings, tests); server data longer than a record
    /// holds is split into several records of the same time.</summary>
    public void WriteAt(RecordingRecordKind kind, uint timeMs, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > RecordingFormat.MaxPayloadBytes && kind != RecordingRecordKind.ServerData)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"only server data may exceed {RecordingFormat.MaxPayloadBytes} bytes");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            do
            {
                var part = payload[..Math.Min(payload.Length, RecordingFormat.MaxPayloadBytes)];
                RecordingFormat.WriteHeader(_header, kind, timeMs, part.Length);
                _stream.Write(_header);
                _stream.Write(part);
                BytesWritten += _header.Length + part.Length;
                payload = payload[part.Length..];
            }
            while (!payload.IsEmpty);
        }
    }

    /// <summary>Hands what is buffered to the operating system (not to the disk: a node's death keeps it, a host's crash
    /// may not).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _stream.Flush();
            }
        }
    }

    /// <summary>Flushes and closes the stream; later writes throw.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stream.Dispose();
        }
    }
}
