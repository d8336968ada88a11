using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Screenshots;

/// <summary>
/// Turns a captured screen into a PNG (RFC 2083: 8-bit RGB, zlib from the BCL, CRC-32 from System.IO.Hashing), scaled
/// down to a requested width by averaging each output pixel's box of screen pixels. Written here rather than taken from
/// an imaging library: the one that fits (SkiaSharp) ships a 9 MB native library per platform that embeds its own
/// freetype, libjpeg and libpng (lintian refuses the .deb for it), to encode what is a few dozen lines, and the relay
/// never decodes an image. The tests check the output with Skia's decoder.
/// </summary>
internal static class ScreenshotPng
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>Encodes <paramref name="frame"/>; a <paramref name="width"/> below the screen's scales it down keeping
    /// the aspect ratio (never up: a thumbnail, not a magnifier).</summary>
    public static byte[] Encode(RfbFramebuffer frame, int? width)
    {
        var (rgb, outWidth, outHeight) = width is { } wanted && wanted < frame.Width
            ? Scale(frame, wanted, Math.Max(1, (int)Math.Round((double)frame.Height * wanted / frame.Width)))
            : (ToRgb(frame), frame.Width, frame.Height);

        using var png = new MemoryStream();
        png.Write(Signature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, outWidth);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), outHeight);
        header[8] = 8; // bits per sample
        header[9] = 2; // colour type: RGB; compression, filter and interlace methods stay 0
        WriteChunk(png, "IHDR"u8, header);
        WriteChunk(png, "IDAT"u8, Compress(rgb, outWidth * 3, outHeight));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>B, G, R, X per pixel to R, G, B.</summary>
    private static byte[] ToRgb(RfbFramebuffer frame)
    {
        var pixels = frame.Pixels;
        var rgb = new byte[frame.Width * frame.Height * 3];
        for (int i = 0, o = 0; o < rgb.Length; i += 4, o += 3)
        {
            rgb[o] = pixels[i + 2];
            rgb[o + 1] = pixels[i + 1];
            rgb[o + 2] = pixels[i];
        }

        return rgb;
    }

    /// <summary>Each output pixel is the mean of the screen pixels its box covers (every screen pixel counted once).</summary>
    private static (byte[] Rgb, int Width, int Height) Scale(RfbFramebuffer frame, int width, int height)
    {
        var rgb = new byte[width * height * 3];
        var sums = new long[width * 3];
        var counts = new long[width];
        for (var y = 0; y < height; y++)
        {
            Array.Clear(sums);
            Array.Clear(counts);
            var rowEnd = (int)((long)(y + 1) * frame.Height / height);
            for (var sy = (int)((long)y * frame.Height / height); sy < rowEnd; sy++)
            {
                var row = sy * frame.Width * 4;
                for (var sx = 0; sx < frame.Width; sx++)
                {
                    var x = (int)((long)sx * width / frame.Width);
                    var i = row + (sx * 4);
                    sums[x * 3] += frame.Pixels[i + 2];
                    sums[(x * 3) + 1] += frame.Pixels[i + 1];
                    sums[(x * 3) + 2] += frame.Pixels[i];
                    counts[x]++;
                }
            }

            for (var x = 0; x < width; x++)
            {
                var count = Math.Max(1, counts[x]);
                for (var c = 0; c < 3; c++)
                {
                    rgb[(((y * width) + x) * 3) + c] = (byte)((sums[(x * 3) + c] + (count / 2)) / count);
                }
            }
        }

        return (rgb, width, height);
    }

    /// <summary>The IDAT payload: each scanline after filter byte 0 (None), through zlib. Screens are mostly flat
    /// colour, which deflate shrinks well without a predictor.</summary>
    private static byte[] Compress(byte[] rgb, int stride, int height)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                zlib.WriteByte(0);
                zlib.Write(rgb, y * stride, stride);
            }
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> field = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(field, data.Length);
        png.Write(field);
        png.Write(type);
        png.Write(data);
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(data);
        BinaryPrimitives.WriteUInt32BigEndian(field, crc.GetCurrentHashAsUInt32());
        png.Write(field);
    }
}
