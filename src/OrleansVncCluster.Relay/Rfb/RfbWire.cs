using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Bounded big-endian reads and writes shared by both handshakes (RFC 6143 section 7: every integer is
/// big-endian). Nothing here allocates more than the caller's bound, whatever length a peer announces.</summary>
internal static class RfbWire
{
    /// <summary>A failure reason longer than this is cut: it is only shown to people and written to logs.</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>ProtocolVersion is exactly 12 bytes, "RFB xxx.yyy\n" (RFC 6143 section 7.1.1).</summary>
    public const int VersionLength = 12;

    public static async ValueTask<byte> ReadU8Async(Stream stream, byte[] scratch, CancellationToken cancellationToken)
    {
        await stream.ReadExactlyAsync(scratch.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
        return scratch[0];
    }

    public static async ValueTask<uint> ReadU32Async(Stream stream, byte[] scratch, CancellationToken cancellationToken)
    {
        await stream.ReadExactlyAsync(scratch.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
        return BinaryPrimitives.ReadUInt32BigEndian(scratch);
    }

    /// <summary>Writes and flushes: a handshake write is always followed by a read of the answer, and a stream that
    /// buffers (a WebSocket adapter) must not sit on the question.</summary>
    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public static ValueTask WriteU8Async(Stream stream, byte value, CancellationToken cancellationToken) =>
        WriteAsync(stream, new[] { value }, cancellationToken);

    public static ValueTask WriteU32Async(Stream stream, uint value, CancellationToken cancellationToken)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return WriteAsync(stream, bytes, cancellationToken);
    }

    /// <summary>Reads and drops <paramref name="count"/> bytes through a small buffer, whatever the count; a stream that
    /// ends first throws <see cref="EndOfStreamException"/>.</summary>
    public static async ValueTask SkipAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        var sink = new byte[(int)Math.Min(count, 4096)];
        while (count > 0)
        {
            var piece = (int)Math.Min(count, sink.Length);
            await stream.ReadExactlyAsync(sink.AsMemory(0, piece), cancellationToken).ConfigureAwait(false);
            count -= piece;
        }
    }

    /// <summary>Reads a U32 length and the reason string after it (RFC 6143 sections 7.1.2 and 7.1.3), keeping at most
    /// <see cref="MaxReasonBytes"/>: the connection ends after a reason, so the rest is never read.</summary>
    public static async ValueTask<string> ReadReasonAsync(Stream stream, byte[] scratch, CancellationToken cancellationToken)
    {
        var length = await ReadU32Async(stream, scratch, cancellationToken).ConfigureAwait(false);
        var kept = (int)Math.Min(length, MaxReasonBytes);
        var bytes = new byte[kept];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        var text = Printable(bytes);
        return length > MaxReasonBytes ? text + "..." : text;
    }

    /// <summary>Writes a U32 length and the reason, cut to <see cref="MaxReasonBytes"/>.</summary>
    public static ValueTask WriteReasonAsync(Stream stream, string reason, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(text.Length, MaxReasonBytes);
        var bytes = new byte[4 + length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)length);
        text.AsSpan(0, length).CopyTo(bytes.AsSpan(4));
        return WriteAsync(stream, bytes, cancellationToken);
    }

    /// <summary>Peer-supplied text made safe for a log line or a close reason: UTF-8 decoded, control characters
    /// replaced, so a hostile server cannot forge log lines.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }

        return builder.ToString().Trim();
    }

    /// <summary>Parses "RFB xxx.yyy\n" (RFC 6143 section 7.1.1); false when the bytes are anything else.</summary>
    public static bool TryParseVersion(ReadOnlySpan<byte> bytes, out int major, out int minor)
    {
        major = 0;
        minor = 0;
        if (bytes.Length != VersionLength || !bytes[..4].SequenceEqual("RFB "u8) || bytes[7] != (byte)'.' || bytes[11] != (byte)'\n')
        {
            return false;
        }

        return TryDigits(bytes.Slice(4, 3), out major) && TryDigits(bytes.Slice(8, 3), out minor);
    }

    public static byte[] VersionBytes(RfbVersion version) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"RFB 003.{(int)version:D3}\n"));

    public static string Describe(RfbVersion version) => version switch
    {
        RfbVersion.V3_3 => "3.3",
        RfbVersion.V3_7 => "3.7",
        _ => "3.8",
    };

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (digit - '0');
        }

        return true;
    }
}
