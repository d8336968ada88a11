using System.Buffers.Binary;
using System.Globalization;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// Finds the message boundaries of the server-to-client byte stream after ServerInit (RFC 6143 section 7.6 and the
/// extensions in docs/RFB.md) and applies a policy to each message: forward, or drop and count. FramebufferUpdate is
/// walked rectangle by rectangle: Raw, CopyRect, RRE and Hextile from their headers and the pixel format; Zlib and ZRLE
/// from their length prefix; the pseudo-encodings of known size (DesktopSize, LastRect, Cursor, VMware cursor, LED
/// state, DesktopName, ExtendedDesktopSize, the QEMU and pointer ones). Nothing is decoded or decompressed.
/// <para>
/// It works as <see cref="RfbClientMessageFilter"/> does, in the caller's buffer, across any chunk boundaries, without
/// allocating: the caller reads each chunk at offset <see cref="Headroom"/>; a header cut by the chunk's end (at most
/// 11 bytes) is held back and put back in front of the next chunk; forwarded bytes are compacted in place; a dropped
/// message (a ServerCutText, however long) is skipped as it arrives and never buffered. Encodings it cannot walk
/// (Tight, TightPNG, JPEG, H.264: their lengths are inside compressed or entropy-coded data) end the stream with a
/// reason; a session that uses this reader asks the server only for encodings it can walk
/// (<see cref="CanRead"/>, applied to SetEncodings by <see cref="RfbClientMessageFilter.ServerReader"/>).
/// </para>
/// <para>The pixel format is ServerInit's until the browser's SetPixelFormat, which takes effect at the next
/// FramebufferUpdate (the server applies it to updates it starts after receiving it; noVNC sends it before its encodings
/// and its first update request, before which a server sends no update, and the client filter refuses a later one). One instance per session direction; not thread-safe,
/// except <see cref="ClientSetPixelFormat"/>, which the other direction calls.</para>
/// </summary>
public sealed class RfbServerMessageReader
{
    /// <summary>Free bytes the caller leaves before each chunk, where a header held back from the previous chunk is put
    /// back, so the output stays one contiguous range of the same buffer.</summary>
    public const int Headroom = 16;

    /// <summary>The longest header needed to take a step: a rectangle header, or an extended ServerCutText up to its flags.</summary>
    private const int MaxHeader = 12;

    /// <summary>ServerFence carries at most 64 bytes of payload (rfbproto.rst "ServerFence").</summary>
    private const int MaxFencePayload = 64;

    private const int Raw = 0;
    private const int CopyRect = 1;
    private const int Rre = 2;
    private const int Hextile = 5;
    private const int Zlib = 6;
    private const int Zrle = 16;
    private const int DesktopSize = -223;
    private const int LastRect = -224;
    private const int PointerPosition = -232;
    private const int Cursor = -239;
    private const int QemuPointerMotionChange = -257;
    private const int QemuExtendedKeyEvent = -258;
    private const int QemuAudio = -259;
    private const int LedState = -261;
    private const int DesktopName = -307;
    private const int ExtendedDesktopSize = -308;
    private const int ExtendedMouseButtons = -316;
    private const int VMwareCursor = 0x574D5664;
    private const int ContinuousUpdates = -313;

    private static readonly int KindCount = Enum.GetValues<RfbServerMessageKind>().Length;

    private readonly IRfbServerMessagePolicy _policy;
    private readonly byte[] _held = new byte[MaxHeader];
    private readonly long[] _forwarded = new long[KindCount];
    private readonly long[] _dropped = new long[KindCount];
    private int _heldCount;
    private int _bytesPerPixel;
    private int _pendingBitsPerPixel;
    private Step _step;
    private long _remaining;
    private bool _forwarding = true;
    private int _rectanglesLeft;
    private int _width;
    private int _height;
    private (ushort Width, ushort Height) _desktopSize;
    private int _tileX;
    private int _tileY;
    private long _position;
    private long _rectangles;
    private string? _error;
    private long _droppedBytes;
    private long _forwardedClipboardBytes;
    private long _droppedClipboardBytes;

    /// <summary>A reader of a stream whose ServerInit gave <paramref name="bitsPerPixel"/> (8, 16 or 32), asking
    /// <paramref name="policy"/> about every message.</summary>
    public RfbServerMessageReader(IRfbServerMessagePolicy policy, int bitsPerPixel)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
        _bytesPerPixel = BytesPerPixel(bitsPerPixel);
    }

    private enum Step
    {
        Message,
        Rectangle,
        RreHeader,
        LengthPrefixed,
        ExtendedDesktopSize,
        VMwareCursor,
        HextileTile,
    }

    private enum Measure
    {
        Complete,
        NeedMore,
        Unknown,
    }

    /// <summary>The reason the stream ended, once it has.</summary>
    public string? Error => _error;

    /// <summary>Bytes of the server's stream consumed so far (held header bytes not included).</summary>
    public long Position => _position;

    /// <summary>True between two messages: everything consumed so far was whole messages.</summary>
    public bool AtMessageBoundary => _step == Step.Message && _remaining == 0 && _heldCount == 0;

    /// <summary>FramebufferUpdate rectangles walked so far.</summary>
    public long Rectangles => Volatile.Read(ref _rectangles);

    /// <summary>Bytes of dropped messages so far.</summary>
    public long DroppedBytes => Volatile.Read(ref _droppedBytes);

    /// <summary>Clipboard contents forwarded to the browser so far, in bytes (the contents are never kept).</summary>
    public long ForwardedClipboardBytes => Volatile.Read(ref _forwardedClipboardBytes);

    /// <summary>Clipboard contents dropped so far, in bytes.</summary>
    public long DroppedClipboardBytes => Volatile.Read(ref _droppedClipboardBytes);

    /// <summary>Messages of <paramref name="kind"/> forwarded so far.</summary>
    public long Forwarded(RfbServerMessageKind kind) => Volatile.Read(ref _forwarded[(int)kind]);

    /// <summary>Messages of <paramref name="kind"/> dropped so far.</summary>
    public long Dropped(RfbServerMessageKind kind) => Volatile.Read(ref _dropped[(int)kind]);

    /// <summary>
    /// True for the encodings (and pseudo-encodings) whose rectangles this reader can walk, and for the pseudo-encodings
    /// that only ask for something and never arrive as a rectangle of unknown size (quality and compression levels, fence,
    /// continuous updates, xvp, extended clipboard, gii: the server confirms those with messages the reader knows).
    /// </summary>
    public static bool CanRead(int encoding) => encoding switch
    {
        Raw or CopyRect or Rre or Hextile or Zlib or Zrle => true,
        DesktopSize or LastRect or PointerPosition or Cursor or QemuPointerMotionChange or QemuExtendedKeyEvent or QemuAudio or LedState
            or DesktopName or ExtendedDesktopSize or ExtendedMouseButtons or VMwareCursor => true,
        >= -32 and <= -23 => true, // JPEG quality level
        >= -256 and <= -247 => true, // compression level
        -305 or -309 or -312 or -313 => true, // gii, xvp, fence, continuous updates
        unchecked((int)0xC0A1E5CE) => true, // extended clipboard
        _ => false,
    };

    /// <summary>
    /// True for the encodings a recording keeps (<see cref="RfbClientMessageFilter.RecordedEncodingsOnly"/>): those this
    /// reader can walk whose rectangles decode without anything earlier in the stream, so playback can start at any
    /// full update. Zlib and ZRLE are out (one zlib stream runs through the whole session), and so is the continuous
    /// updates pseudo-encoding: with it noVNC stops sending update requests, and a recording's keyframes ride on them.
    /// </summary>
    public static bool CanRecord(int encoding) => encoding is not (Zlib or Zrle or ContinuousUpdates) && CanRead(encoding);

    /// <summary>Tells the reader the browser asked for <paramref name="bitsPerPixel"/>: FramebufferUpdates that start from
    /// now on carry pixels of that size. Called by the other direction (thread-safe).</summary>
    public void ClientSetPixelFormat(int bitsPerPixel) => Volatile.Write(ref _pendingBitsPerPixel, bitsPerPixel);

    /// <summary>
    /// Reads one chunk received from the server. The chunk is <c>buffer[Headroom..(Headroom + count)]</c>; the bytes to
    /// send on are returned as a range of the same buffer (possibly starting before <see cref="Headroom"/>, possibly
    /// empty). After a failure, the range still holds the bytes that came before the unreadable one.
    /// </summary>
    public RfbFilterResult Filter(Span<byte> buffer, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, Headroom + count);
        if (_error is not null)
        {
            return new RfbFilterResult(Headroom, 0, _error);
        }

        // Held bytes are the start of a header, so putting them back in front makes the chunk begin where parsing stopped.
        var start = Headroom - _heldCount;
        _held.AsSpan(0, _heldCount).CopyTo(buffer[start..]);
        _heldCount = 0;
        var read = start;
        var write = start;
        var end = Headroom + count;
        while (true)
        {
            if (_remaining > 0)
            {
                if (read == end)
                {
                    break;
                }

                var piece = (int)Math.Min(_remaining, end - read);
                if (_forwarding)
                {
                    if (write != read)
                    {
                        buffer.Slice(read, piece).CopyTo(buffer[write..]);
                    }

                    write += piece;
                }

                read += piece;
                _remaining -= piece;
                _position += piece;
                continue;
            }

            // Steps that need no bytes: the end of an update, of a Hextile rectangle.
            if (_step == Step.Rectangle && _rectanglesLeft == 0)
            {
                _step = Step.Message;
            }
            else if (_step == Step.HextileTile && _tileY >= _height)
            {
                _step = Step.Rectangle;
                continue;
            }

            if (read == end)
            {
                break;
            }

            var measured = _step == Step.Message ? MeasureMessage(buffer[read..end], out var error) : MeasureRectanglePart(buffer[read..end], out error);
            if (measured == Measure.NeedMore)
            {
                buffer[read..end].CopyTo(_held);
                _heldCount = end - read;
                break;
            }

            if (measured == Measure.Unknown)
            {
                _error = error;
                return new RfbFilterResult(start, write - start, error);
            }
        }

        return new RfbFilterResult(start, write - start, null);
    }

    /// <summary>A message's header at the start of <paramref name="data"/>: sets how many bytes the message (or, for a
    /// FramebufferUpdate, its 4-byte header) is and whether they go on.</summary>
    private Measure MeasureMessage(ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        var type = data[0];
        switch (type)
        {
            case 0:
                if (data.Length < 4)
                {
                    return Measure.NeedMore;
                }

                var asked = Interlocked.Exchange(ref _pendingBitsPerPixel, 0);
                if (asked != 0)
                {
                    _bytesPerPixel = BytesPerPixel(asked);
                }

                if (_bytesPerPixel == 0)
                {
                    error = "the pixel format has a size the relay does not know (bits per pixel other than 8, 16 or 32)";
                    return Measure.Unknown;
                }

                Accept(new RfbServerMessage { Kind = RfbServerMessageKind.FramebufferUpdate, Position = _position, Length = -1 }, 4);
                _forwarding = true;
                _rectanglesLeft = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
                _step = Step.Rectangle;
                return Measure.Complete;
            case 1:
                return data.Length < 6 ? Measure.NeedMore : Whole(RfbServerMessageKind.SetColourMapEntries, type, 6 + (6L * BinaryPrimitives.ReadUInt16BigEndian(data[4..])));
            case 2:
                return Whole(RfbServerMessageKind.Bell, type, 1);
            case 3:
                return MeasureCutText(data, out error);
            case 150:
                return Whole(RfbServerMessageKind.EndOfContinuousUpdates, type, 1);
            case 248:
                if (data.Length < 9)
                {
                    return Measure.NeedMore;
                }

                if (data[8] > MaxFencePayload)
                {
                    error = string.Create(CultureInfo.InvariantCulture,
                        $"the VNC server sent a ServerFence with {data[8]} bytes of payload; at most {MaxFencePayload} are allowed");
                    return Measure.Unknown;
                }

                return Whole(RfbServerMessageKind.ServerFence, type, 9 + data[8]);
            case 250:
                return Whole(RfbServerMessageKind.Xvp, type, 4);
            case 253:
                if (data.Length < 4)
                {
                    return Measure.NeedMore;
                }

                // Byte 1 bit 7 says the message's own byte order (rfbproto.rst "gii Server Message").
                var giiLength = (data[1] & 0x80) != 0 ? BinaryPrimitives.ReadUInt16BigEndian(data[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
                return Whole(RfbServerMessageKind.Gii, type, 4 + giiLength);
            case 255:
                return MeasureQemu(data, out error);
            default:
                error = string.Create(CultureInfo.InvariantCulture, $"the VNC server sent RFB message type {type}, which the relay does not know");
                return Measure.Unknown;
        }
    }

    /// <summary>ServerCutText: U8 type, 3 padding, S32 length; a negative length is the extended clipboard, whose payload
    /// starts with a U32 flags word (rfbproto.rst "Extended Clipboard Pseudo-Encoding").</summary>
    private Measure MeasureCutText(ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        if (data.Length < 8)
        {
            return Measure.NeedMore;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        if (length >= 0)
        {
            Decide(new RfbServerMessage { Kind = RfbServerMessageKind.ServerCutText, Type = 3, Position = _position, Length = 8L + length, ClipboardLength = length });
            return Measure.Complete;
        }

        var payload = -(long)length;
        if (payload < 4)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"the VNC server sent an extended clipboard message of {payload} bytes, too short for its flags");
            return Measure.Unknown;
        }

        if (data.Length < MaxHeader)
        {
            return Measure.NeedMore;
        }

        Decide(new RfbServerMessage
        {
            Kind = RfbServerMessageKind.ServerCutText,
            Type = 3,
            Position = _position,
            Length = 8 + payload,
            ClipboardLength = payload,
            IsExtendedClipboard = true,
            ExtendedClipboardFlags = BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
        });
        return Measure.Complete;
    }

    /// <summary>QEMU server messages (rfbproto.rst "QEMU Server Message"): only subtype 1, audio, exists; its U16
    /// operation 0 (end) or 1 (begin) is 4 bytes, 2 (data) is 8 + U32 length.</summary>
    private Measure MeasureQemu(ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        if (data.Length < 4)
        {
            return Measure.NeedMore;
        }

        if (data[1] != 1)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"the VNC server sent QEMU message subtype {data[1]}, which the relay does not know");
            return Measure.Unknown;
        }

        switch (BinaryPrimitives.ReadUInt16BigEndian(data[2..]))
        {
            case 0 or 1:
                return Whole(RfbServerMessageKind.QemuAudio, 255, 4);
            case 2:
                return data.Length < 8 ? Measure.NeedMore : Whole(RfbServerMessageKind.QemuAudio, 255, 8 + (long)BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
            case var operation:
                error = string.Create(CultureInfo.InvariantCulture, $"the VNC server sent QEMU audio operation {operation}, which the relay does not know");
                return Measure.Unknown;
        }
    }

    /// <summary>The next part of a FramebufferUpdate: a rectangle header, or the header of a rectangle's payload.</summary>
    private Measure MeasureRectanglePart(ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        var bpp = _bytesPerPixel;
        switch (_step)
        {
            case Step.Rectangle:
                return MeasureRectangle(data, out error);
            case Step.RreHeader:
                // U32 number of subrectangles, background pixel; each subrectangle is a pixel and four U16.
                return data.Length < 4 + bpp ? Measure.NeedMore : Part(4 + bpp + (BinaryPrimitives.ReadUInt32BigEndian(data) * (long)(bpp + 8)), Step.Rectangle);
            case Step.LengthPrefixed:
                return data.Length < 4 ? Measure.NeedMore : Part(4 + (long)BinaryPrimitives.ReadUInt32BigEndian(data), Step.Rectangle);
            case Step.ExtendedDesktopSize:
                // U8 number of screens, 3 padding, 16 bytes per screen.
                return Part(4 + (16L * data[0]), Step.Rectangle);
            case Step.VMwareCursor:
                // U8 cursor type, U8 padding; type 0: AND and XOR masks of pixels; type 1: ARGB, 4 bytes per pixel.
                var pixels = (long)_width * _height;
                switch (data[0])
                {
                    case 0:
                        return Part(2 + (2 * pixels * bpp), Step.Rectangle);
                    case 1:
                        return Part(2 + (4 * pixels), Step.Rectangle);
                    default:
                        error = string.Create(CultureInfo.InvariantCulture, $"the VNC server sent a VMware cursor of type {data[0]}, which the relay does not know");
                        return Measure.Unknown;
                }

            default:
                return MeasureHextileTile(data);
        }
    }

    /// <summary>A rectangle header (U16 x, y, width, height, S32 encoding) and what follows it (RFC 6143 section 7.7).</summary>
    private Measure MeasureRectangle(ReadOnlySpan<byte> data, out string? error)
    {
        error = null;
        if (data.Length < 12)
        {
            return Measure.NeedMore;
        }

        _width = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
        _height = BinaryPrimitives.ReadUInt16BigEndian(data[6..]);
        var encoding = BinaryPrimitives.ReadInt32BigEndian(data[8..]);
        var pixels = (long)_width * _height;
        var bpp = _bytesPerPixel;
        _rectanglesLeft--;
        _rectangles++;
        switch (encoding)
        {
            case Raw:
                return Part(12 + (pixels * bpp), Step.Rectangle);
            case CopyRect:
                return Part(12 + 4, Step.Rectangle);
            case Rre:
                return Part(12, Step.RreHeader);
            case Hextile:
                (_tileX, _tileY) = (0, _width == 0 ? _height : 0);
                return Part(12, Step.HextileTile);
            case Zlib or Zrle or DesktopName:
                return Part(12, Step.LengthPrefixed);
            case Cursor:
                // The cursor's pixels, then a bitmask of ceil(width / 8) bytes per row.
                return Part(12 + (pixels * bpp) + (((_width + 7) / 8) * (long)_height), Step.Rectangle);
            case LedState:
                return Part(12 + 1, Step.Rectangle);
            case ExtendedDesktopSize:
                _desktopSize = ((ushort)_width, (ushort)_height);
                return Part(12, Step.ExtendedDesktopSize);
            case VMwareCursor:
                return Part(12, Step.VMwareCursor);
            case LastRect:
                // Ends an update whose count was 65535 (rfbproto.rst "LastRect Pseudo-encoding").
                _rectanglesLeft = 0;
                return Part(12, Step.Rectangle);
            case DesktopSize:
                _desktopSize = ((ushort)_width, (ushort)_height);
                return Part(12, Step.Rectangle);
            case PointerPosition or QemuPointerMotionChange or QemuExtendedKeyEvent or QemuAudio or ExtendedMouseButtons:
                return Part(12, Step.Rectangle);
            default:
                error = string.Create(CultureInfo.InvariantCulture,
                    $"the VNC server sent a rectangle in encoding {encoding}, which the relay cannot walk (it asks only for Raw, CopyRect, RRE, Hextile, Zlib and ZRLE)");
                return Measure.Unknown;
        }
    }

    /// <summary>One 16x16 Hextile tile (RFC 6143 section 7.7.4): a subencoding byte; Raw pixels, or optional background
    /// and foreground pixels, an optional subrectangle count, and 2 bytes (plus a pixel when coloured) per subrectangle.</summary>
    private Measure MeasureHextileTile(ReadOnlySpan<byte> data)
    {
        var bpp = _bytesPerPixel;
        var subencoding = data[0];
        var tileWidth = Math.Min(16, _width - _tileX);
        var tileHeight = Math.Min(16, _height - _tileY);
        long length;
        if ((subencoding & 1) != 0)
        {
            length = 1 + ((long)tileWidth * tileHeight * bpp);
        }
        else
        {
            var prefix = ((subencoding & 2) != 0 ? bpp : 0) + ((subencoding & 4) != 0 ? bpp : 0) + ((subencoding & 8) != 0 ? 1 : 0);
            if (data.Length < 1 + prefix)
            {
                return Measure.NeedMore;
            }

            var subrectangles = (subencoding & 8) != 0 ? data[prefix] : 0;
            length = 1 + prefix + (subrectangles * (long)((subencoding & 16) != 0 ? bpp + 2 : 2));
        }

        _tileX += 16;
        if (_tileX >= _width)
        {
            _tileX = 0;
            _tileY += 16;
        }

        return Part(length, Step.HextileTile);
    }

    private Measure Part(long length, Step next)
    {
        _remaining = length;
        _step = next;
        return Measure.Complete;
    }

    private Measure Whole(RfbServerMessageKind kind, byte type, long length)
    {
        Decide(new RfbServerMessage { Kind = kind, Type = type, Position = _position, Length = length });
        return Measure.Complete;
    }

    private void Decide(in RfbServerMessage message)
    {
        _forwarding = _policy.Decide(message with { Forwarded = _position - _droppedBytes, DesktopSize = _desktopSize }) != RfbMessageVerdict.Drop;
        var clipboard = message.CarriesClipboardData ? message.ClipboardLength : 0;
        if (_forwarding)
        {
            _forwarded[(int)message.Kind]++;
            _forwardedClipboardBytes += clipboard;
        }
        else
        {
            _dropped[(int)message.Kind]++;
            _droppedBytes += message.Length;
            _droppedClipboardBytes += clipboard;
        }

        _remaining = message.Length;
        _step = Step.Message;
    }

    private void Accept(in RfbServerMessage message, long headerLength)
    {
        // The policy hears of every message; a FramebufferUpdate goes on whatever it says (its length is not known yet).
        _ = _policy.Decide(message with { Forwarded = _position - _droppedBytes, DesktopSize = _desktopSize });
        _forwarded[(int)message.Kind]++;
        _remaining = headerLength;
    }

    private static int BytesPerPixel(int bitsPerPixel) => bitsPerPixel is 8 or 16 or 32 ? bitsPerPixel / 8 : 0;
}
