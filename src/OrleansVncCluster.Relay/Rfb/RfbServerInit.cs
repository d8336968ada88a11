using System.Buffers.Binary;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The VNC server's ServerInit message (RFC 6143 section 7.3.2), kept as the bytes to hand on to the browser.</summary>
public sealed class RfbServerInit
{
    /// <summary>Fixed part: U16 width, U16 height, 16-byte PIXEL_FORMAT, U32 name length.</summary>
    public const int FixedLength = 24;

    internal RfbServerInit(byte[] bytes, string name)
    {
        Bytes = bytes;
        Name = name;
    }

    /// <summary>The message as the browser must receive it (a cut desktop name has its length field rewritten).</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>Framebuffer width in pixels.</summary>
    public int Width => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Span);

    /// <summary>Framebuffer height in pixels.</summary>
    public int Height => BinaryPrimitives.ReadUInt16BigEndian(Bytes.Span[2..]);

    /// <summary>The server's pixel format (RFC 6143 section 7.4), 16 bytes.</summary>
    public ReadOnlyMemory<byte> PixelFormat => Bytes.Slice(4, 16);

    /// <summary>The desktop name, decoded as UTF-8 with control characters replaced.</summary>
    public string Name { get; }

    /// <summary>Builds a ServerInit from its parts (for tests and for fake servers).</summary>
    public static RfbServerInit Create(int width, int height, ReadOnlySpan<byte> pixelFormat, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNotEqual(pixelFormat.Length, 16);
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        var bytes = new byte[FixedLength + nameBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)height);
        pixelFormat.CopyTo(bytes.AsSpan(4));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)nameBytes.Length);
        nameBytes.CopyTo(bytes.AsSpan(FixedLength));
        return new RfbServerInit(bytes, RfbWire.Printable(nameBytes));
    }
}
