using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// Reads one whole frame from a VNC server the relay is logged in to (after ServerInit): it asks for 32-bit true colour
/// (SetPixelFormat), the Raw encoding only (SetEncodings: every server must support Raw, RFC 6143 section 7.7.1, so no
/// decoder for Tight, ZRLE or Hextile is needed), and a non-incremental update of the whole screen, then reads updates
/// until every pixel has been painted once. For screenshots on a connection of their own: it never runs inside a
/// browser's session. Memory is bounded by <see cref="MaxPixels"/> before anything is allocated.
/// </summary>
public static class RfbFramebufferCapture
{
    /// <summary>Largest screen captured (4096 x 4096): 64 MiB of pixels at 4 bytes each.</summary>
    public const int MaxPixels = 4096 * 4096;

    private const int BytesPerPixel = 4;
    private const byte FramebufferUpdate = 0;
    private const byte SetColourMapEntries = 1;
    private const byte Bell = 2;
    private const byte ServerCutText = 3;
    private const int RawEncoding = 0;

    /// <summary>
    /// Captures the screen described by <paramref name="serverInit"/>. The pixels come back as B, G, R, X bytes per pixel
    /// (little-endian 0x00RRGGBB), top row first, which image libraries call BGRA with an opaque alpha.
    /// </summary>
    public static async Task<RfbCaptureResult> CaptureAsync(Stream stream, RfbServerInit serverInit, CancellationToken cancellationToken)
    {
        var width = serverInit.Width;
        var height = serverInit.Height;
        if (width == 0 || height == 0 || (long)width * height > MaxPixels)
        {
            return RfbCaptureResult.Failed(RfbFailureKind.ProtocolViolation,
                $"the VNC server's screen is {width}x{height}: a screenshot takes 1 to {MaxPixels} pixels");
        }

        try
        {
            await RfbWire.WriteAsync(stream, Requests(width, height), cancellationToken).ConfigureAwait(false);
            var pixels = new byte[width * height * BytesPerPixel];
            var painted = 0L;
            var scratch = new byte[12];
            while (painted < (long)width * height)
            {
                var type = await RfbWire.ReadU8Async(stream, scratch, cancellationToken).ConfigureAwait(false);
                switch (type)
                {
                    case FramebufferUpdate:
                        painted += await ReadUpdateAsync(stream, pixels, width, height, scratch, cancellationToken).ConfigureAwait(false);
                        break;
                    case SetColourMapEntries:
                        // Only sent for colour-map pixel formats, which the relay did not ask for; skipped if it comes.
                        await stream.ReadExactlyAsync(scratch.AsMemory(0, 5), cancellationToken).ConfigureAwait(false);
                        await RfbWire.SkipAsync(stream, BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(3)) * 6L, cancellationToken).ConfigureAwait(false);
                        break;
                    case Bell:
                        break;
                    case ServerCutText:
                        await stream.ReadExactlyAsync(scratch.AsMemory(0, 7), cancellationToken).ConfigureAwait(false);
                        await RfbWire.SkipAsync(stream, BinaryPrimitives.ReadUInt32BigEndian(scratch.AsSpan(3)), cancellationToken).ConfigureAwait(false);
                        break;
                    default:
                        throw new RfbFailureException(RfbFailureKind.ProtocolViolation, $"the VNC server sent message type {type}, which a screenshot does not expect");
                }
            }

            return RfbCaptureResult.Success(new RfbFramebuffer(width, height, pixels));
        }
        catch (RfbFailureException failure)
        {
            return RfbCaptureResult.Failed(failure.Kind, failure.Message);
        }
        catch (EndOfStreamException)
        {
            return RfbCaptureResult.Failed(RfbFailureKind.Closed, "the VNC server closed the connection before the screen was complete");
        }
        catch (IOException exception) when (!cancellationToken.IsCancellationRequested)
        {
            return RfbCaptureResult.Failed(RfbFailureKind.TransportError, $"the connection to the VNC server failed: {exception.Message}");
        }
    }

    /// <summary>
    /// The PIXEL_FORMAT asked for (RFC 6143 section 7.4): 32 bits per pixel, depth 24, little-endian (the bytes in memory
    /// are B, G, R, X), true colour, red, green and blue maxima 255 at shifts 16, 8 and 0, 3 bytes padding.
    /// </summary>
    internal static ReadOnlySpan<byte> TrueColour32 => [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

    /// <summary>SetPixelFormat (<see cref="TrueColour32"/>), SetEncodings [Raw], FramebufferUpdateRequest (non-incremental,
    /// the whole screen), in one write.</summary>
    private static byte[] Requests(int width, int height)
    {
        var bytes = new byte[20 + 8 + 10];
        bytes[0] = 0; // SetPixelFormat, 3 bytes padding, then PIXEL_FORMAT
        TrueColour32.CopyTo(bytes.AsSpan(4));
        bytes[20] = 2; // SetEncodings, 1 byte padding, U16 count, S32 encodings
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(24), RawEncoding);
        bytes[28] = 3; // FramebufferUpdateRequest
        bytes[29] = 0; // not incremental: the whole screen, not just what changed
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(34), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(36), (ushort)height);
        return bytes;
    }

    /// <summary>Reads one FramebufferUpdate (after its type byte) into <paramref name="pixels"/>; returns how many
    /// pixels it painted. A rectangle outside the screen, or in an encoding the relay did not ask for, ends the capture.</summary>
    private static async Task<long> ReadUpdateAsync(Stream stream, byte[] pixels, int width, int height, byte[] scratch, CancellationToken cancellationToken)
    {
        await stream.ReadExactlyAsync(scratch.AsMemory(0, 3), cancellationToken).ConfigureAwait(false);
        var rectangles = BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(1));
        var painted = 0L;
        for (var i = 0; i < rectangles; i++)
        {
            await stream.ReadExactlyAsync(scratch.AsMemory(0, 12), cancellationToken).ConfigureAwait(false);
            var x = BinaryPrimitives.ReadUInt16BigEndian(scratch);
            var y = BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(2));
            var w = BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(4));
            var h = BinaryPrimitives.ReadUInt16BigEndian(scratch.AsSpan(6));
            var encoding = BinaryPrimitives.ReadInt32BigEndian(scratch.AsSpan(8));
            if (encoding != RawEncoding)
            {
                throw new RfbFailureException(RfbFailureKind.ProtocolViolation, $"the VNC server sent a rectangle in encoding {encoding} although only Raw was asked for");
            }

            if (x + w > width || y + h > height)
            {
                throw new RfbFailureException(RfbFailureKind.ProtocolViolation, $"the VNC server sent a {w}x{h} rectangle at {x},{y}, outside its {width}x{height} screen");
            }

            for (var row = 0; row < h; row++)
            {
                var offset = (((y + row) * width) + x) * BytesPerPixel;
                await stream.ReadExactlyAsync(pixels.AsMemory(offset, w * BytesPerPixel), cancellationToken).ConfigureAwait(false);
            }

            painted += (long)w * h;
        }

        return painted;
    }

}

/// <summary>A captured screen: <see cref="Pixels"/> holds B, G, R, X bytes per pixel, top row first.</summary>
public sealed record RfbFramebuffer(int Width, int Height, byte[] Pixels);

/// <summary>A screen, or why none was captured (a readable reason).</summary>
public sealed record RfbCaptureResult(RfbFramebuffer? Frame, RfbFailureKind? Failure, string? Reason)
{
    /// <summary>True when <see cref="Frame"/> is set.</summary>
    [MemberNotNullWhen(true, nameof(Frame))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Reason))]
    public bool Succeeded => Frame is not null;

    internal static RfbCaptureResult Success(RfbFramebuffer frame) => new(frame, null, null);

    internal static RfbCaptureResult Failed(RfbFailureKind failure, string reason) => new(null, failure, reason);
}
