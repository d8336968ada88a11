using System.Buffers.Binary;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>The payload of an <see cref="RecordingRecordKind.Input"/> record: what kind of input the user gave and where,
/// 10 bytes: kind (1), key down or button mask (1), key value or clipboard bytes (4), pointer x (2), pointer y (2). A
/// key's value is 0 unless the recording keeps key values (Recording:IncludeKeyValues).</summary>
public readonly record struct RecordingInput(RecordingInputKind Kind, byte DownOrButtons, uint Value, ushort X, ushort Y)
{
    /// <summary>The payload size of every input record.</summary>
    public const int Size = 10;

    /// <summary>Writes this input as a record payload.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)Kind;
        destination[1] = DownOrButtons;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], Value);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], X);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], Y);
    }

    /// <summary>Reads an input payload; false when it is not one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out RecordingInput input)
    {
        input = default;
        if (payload.Length != Size || !Enum.IsDefined((RecordingInputKind)payload[0]))
        {
            return false;
        }

        input = new RecordingInput(
            (RecordingInputKind)payload[0],
            payload[1],
            BinaryPrimitives.ReadUInt32BigEndian(payload[2..]),
            BinaryPrimitives.ReadUInt16BigEndian(payload[6..]),
            BinaryPrimitives.ReadUInt16BigEndian(payload[8..]));
        return true;
    }
}
