using System.Buffers.Binary;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The recording file format, version 1 (docs/RECORDING.md): an 8-byte magic, then records, each a 9-byte header
/// (kind, milliseconds since the recording started, payload length; big-endian like RFB) and its payload. Append-only,
/// so a file cut anywhere is still readable up to its last whole record.</summary>
public static class RecordingFormat
{
    /// <summary>The first bytes of every recording: "VNCREC" and the two-digit format version.</summary>
    public static ReadOnlySpan<byte> Magic => "VNCREC01"u8;

    /// <summary>The record header: kind (1), time in ms (4), payload length (4).</summary>
    public const int RecordHeaderSize = 9;

    /// <summary>The largest payload a reader accepts: a writer never writes more in one record (it splits server data),
    /// so anything larger is a damaged file, not a big message.</summary>
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    /// <summary>A Keyframe record's payload when the server resized the screen since ServerInit: U16 width, U16 height.</summary>
    public const int KeyframeSizeLength = 4;

    /// <summary>The file name extension of a recording.</summary>
    public const string FileExtension = ".vncrec";

    /// <summary>Writes a record header into <paramref name="destination"/> (at least <see cref="RecordHeaderSize"/> bytes).</summary>
    public static void WriteHeader(Span<byte> destination, RecordingRecordKind kind, uint timeMs, int payloadLength)
    {
        if ((uint)payloadLength > MaxPayloadBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, $"a record holds at most {MaxPayloadBytes} bytes");
        }

        destination[0] = (byte)kind;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], timeMs);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], payloadLength);
    }

    /// <summary>Reads a record header; false when it is not one a writer of this format could have written.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out RecordingRecordKind kind, out uint timeMs, out int payloadLength)
    {
        kind = (RecordingRecordKind)source[0];
        timeMs = BinaryPrimitives.ReadUInt32BigEndian(source[1..]);
        payloadLength = BinaryPrimitives.ReadInt32BigEndian(source[5..]);
        return Enum.IsDefined(kind) && (uint)payloadLength <= MaxPayloadBytes;
    }
}
