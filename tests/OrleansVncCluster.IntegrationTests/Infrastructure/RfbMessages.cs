using System.Buffers.Binary;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>Browser-to-server RFB messages the tests send (RFC 6143 section 7.5).</summary>
public static class RfbMessages
{
    /// <summary>SetEncodings with <paramref name="encodings"/> in order.</summary>
    public static byte[] Encodings(params int[] encodings)
    {
        var bytes = new byte[4 + (4 * encodings.Length)];
        bytes[0] = 2;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)encodings.Length);
        for (var i = 0; i < encodings.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), encodings[i]);
        }

        return bytes;
    }
}
