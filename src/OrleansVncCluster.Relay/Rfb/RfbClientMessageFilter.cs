using System.Buffers.Binary;
using System.Globalization;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>
/// Splits the browser-to-server byte stream after the handshake into messages (RFC 6143 section 7.5 and the extensions
/// in docs/RFB.md) and applies a policy to each: forward, or drop and count. It works in the caller's buffer, across any
/// chunk boundaries, without allocating: forwarded bytes are compacted in place, dropped ones (however long, e.g. a huge
/// ClientCutText) are skipped as they arrive and never buffered, and only a partial header of at most 11 bytes (or a
/// partial SetEncodings word) is kept between chunks. The only bytes it changes are in SetEncodings: an
/// ExtendedMouseButtons request, see <see cref="ForwardEncodings"/>, and, with a <see cref="ServerReader"/>, the
/// encodings that reader cannot walk. A message type the relay does not know ends the stream with a reason, since its
/// length is unknown and anything after it would be read out of step. One instance per session direction; not
/// thread-safe.
/// </summary>
public sealed class RfbClientMessageFilter
{
    /// <summary>Free bytes the caller leaves before each chunk, where a header held back from the previous chunk is put
    /// back, so the output stays one contiguous range of the same buffer.</summary>
    public const int Headroom = 16;

    /// <summary>The longest header needed to know a message's length and kind: an extended ClientCutText up to its flags.</summary>
    internal const int MaxHeader = 12;

    /// <summary>ClientFence carries at most 64 bytes of payload (rfbproto.rst "ClientFence").</summary>
    private const int MaxFencePayload = 64;

    /// <summary>The ExtendedMouseButtons pseudo-encoding, which makes PointerEvent 7 bytes long after confirmation.</summary>
    private const int ExtendedMouseButtons = -316;

    private static readonly int KindCount = Enum.GetValues<RfbClientMessageKind>().Length;

    private readonly IRfbClientMessagePolicy _policy;
    private readonly byte[] _held = new byte[MaxHeader];
    private readonly long[] _forwarded = new long[KindCount];
    private readonly long[] _dropped = new long[KindCount];
    private int _heldCount;
    private long _remaining;
    private long _length;
    private bool _forwarding;
    private bool _rewritingEncodings;
    private long _strippedEncodings;
    private long _replacedEncodings;
    private int _lastKeptEncoding;
    private bool _updatesPossible;
    private string? _error;
    private long _droppedBytes;
    private long _forwardedBytes;
    private long _forwardedClipboardBytes;
    private long _droppedClipboardBytes;

    /// <summary>A filter that asks <paramref name="policy"/> about every message.</summary>
    public RfbClientMessageFilter(IRfbClientMessagePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
    }

    internal enum Measure
    {
        Complete,
        NeedMore,
        Unknown,
    }

    /// <summary>
    /// The reader of the same session's server-to-browser stream, when the relay parses it (a clipboard policy towards
    /// the browser): SetEncodings then asks only for encodings the reader can walk (<see cref="RfbServerMessageReader.CanRead"/>;
    /// each other one is replaced by the encoding before it, or CopyRect, so neither the count nor the server's
    /// preferred encoding changes), the browser's SetPixelFormat is passed on to it, and a SetPixelFormat after the
    /// first SetEncodings or update request ends the stream: an update the server may already have sent (a cursor
    /// rectangle answers SetEncodings) would be read with the wrong pixel size. noVNC sets its pixel format first.
    /// </summary>
    public RfbServerMessageReader? ServerReader { get; init; }

    /// <summary>
    /// True for a recorded session: SetEncodings asks only for encodings a recording can start playing at any full update
    /// (<see cref="RfbServerMessageReader.CanRecord"/>: no zlib stream state, no continuous updates), each other one
    /// replaced as for <see cref="ServerReader"/> (docs/RECORDING.md, "What recording costs").
    /// </summary>
    public bool RecordedEncodingsOnly { get; init; }

    /// <summary>How many SetEncodings entries were replaced because <see cref="ServerReader"/> cannot walk them.</summary>
    public long ReplacedEncodings => Volatile.Read(ref _replacedEncodings);

    /// <summary>The reason the stream ended, once it has.</summary>
    public string? Error => _error;

    /// <summary>How many ExtendedMouseButtons requests were replaced in SetEncodings so far.</summary>
    public long StrippedEncodings => Volatile.Read(ref _strippedEncodings);

    /// <summary>Bytes of dropped messages so far.</summary>
    public long DroppedBytes => Volatile.Read(ref _droppedBytes);

    /// <summary>Clipboard contents forwarded to the VM so far, in bytes (for the audit record; the contents are never kept).</summary>
    public long ForwardedClipboardBytes => Volatile.Read(ref _forwardedClipboardBytes);

    /// <summary>Clipboard contents dropped so far, in bytes.</summary>
    public long DroppedClipboardBytes => Volatile.Read(ref _droppedClipboardBytes);

    /// <summary>Messages of <paramref name="kind"/> forwarded so far.</summary>
    public long Forwarded(RfbClientMessageKind kind) => Volatile.Read(ref _forwarded[(int)kind]);

    /// <summary>Messages of <paramref name="kind"/> dropped so far.</summary>
    public long Dropped(RfbClientMessageKind kind) => Volatile.Read(ref _dropped[(int)kind]);

    /// <summary>
    /// Filters one chunk received from the browser. The chunk is <c>buffer[Headroom..(Headroom + count)]</c>; the bytes
    /// to send on are returned as a range of the same buffer (possibly starting before <see cref="Headroom"/>, possibly
    /// empty). After a failure, the range still holds the complete messages that came before the bad one.
    /// </summary>
    public RfbFilterResult Filter(Span<byte> buffer, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, Headroom + count);
        if (_error is not null)
        {
            return new RfbFilterResult(Headroom, 0, _error);
        }

        // Bytes held back are the start of a message (or of a SetEncodings word), so putting them back in front makes
        // the chunk begin where parsing stopped.
        var start = Headroom - _heldCount;
        _held.AsSpan(0, _heldCount).CopyTo(buffer[start..]);
        _heldCount = 0;
        var read = start;
        var write = start;
        var end = Headroom + count;
        while (read < end)
        {
            if (_remaining > 0 && _rewritingEncodings)
            {
                if (!ForwardEncodings(buffer, ref read, ref write, end))
                {
                    break;
                }

                continue;
            }

            if (_remaining > 0)
            {
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
                continue;
            }

            switch (MeasureMessage(buffer[read..end], out var message, out var error))
            {
                case Measure.NeedMore:
                    buffer[read..end].CopyTo(_held);
                    _heldCount = end - read;
                    read = end;
                    break;
                case Measure.Unknown:
                    _error = error;
                    return Result(start, write, error);
                default:
                    var verdict = _policy.Decide(message with { Position = _forwardedBytes + (write - start) });
                    _forwarding = verdict != RfbMessageVerdict.Drop;
                    if (verdict == RfbMessageVerdict.ForwardAsFullUpdate && message.Kind == RfbClientMessageKind.FramebufferUpdateRequest)
                    {
                        // The incremental flag (RFC 6143 section 7.5.3); the whole request is in the chunk (MeasureMessage).
                        buffer[read + 1] = 0;
                    }


                    if (_forwarding && ServerReader is { } reader && TrackServerFormat(message.Kind, message.Kind == RfbClientMessageKind.SetPixelFormat ? buffer[read + 4] : (byte)0, reader) is { } refused)
                    {
                        _error = refused;
                        return Result(start, write, refused);
                    }

                    Count(message);
                    _remaining = message.Length;
                    _length = message.Length;
                    _rewritingEncodings = _forwarding && message.Kind == RfbClientMessageKind.SetEncodings;
                    _lastKeptEncoding = 1;
                    break;
            }
        }

        return Result(start, write, null);
    }

    private RfbFilterResult Result(int start, int write, string? error)
    {
        _forwardedBytes += write - start;
        return new RfbFilterResult(start, write - start, error);
    }

    /// <summary>
    /// Forwards SetEncodings in whole 4-byte words, holding back a word cut by the chunk end, and replaces the
    /// ExtendedMouseButtons pseudo-encoding (-316) with Raw (0, which every server supports and noVNC lists anyway).
    /// Once a server confirms -316, noVNC sends 7-byte PointerEvents when mask bit 7 is set; the confirmation travels in
    /// the server-to-browser stream, which the relay passes through unparsed, so it could not tell a 6-byte PointerEvent
    /// from a 7-byte one. Never asking for the extension keeps every PointerEvent 6 bytes (rfbproto.rst
    /// "ExtendedMouseButtons Pseudo-encoding").
    /// </summary>
    /// <returns>False when the rest of the chunk was held back.</returns>
    private bool ForwardEncodings(Span<byte> buffer, ref int read, ref int write, int end)
    {
        var piece = (int)Math.Min(_remaining, end - read);
        var position = _length - _remaining;
        var usable = piece < _remaining ? piece - (int)((position + piece) % 4) : piece;
        if (write != read)
        {
            buffer.Slice(read, usable).CopyTo(buffer[write..]);
        }

        // Words are aligned to the message start: the 4-byte header, then one S32 per encoding.
        for (var word = 0; word + 4 <= usable; word += 4)
        {
            if (position + word < 4)
            {
                continue;
            }

            var encoding = BinaryPrimitives.ReadInt32BigEndian(buffer[(write + word)..]);
            if (encoding == ExtendedMouseButtons)
            {
                BinaryPrimitives.WriteInt32BigEndian(buffer[(write + word)..], 0);
                _strippedEncodings++;
            }
            else if ((ServerReader is not null && !RfbServerMessageReader.CanRead(encoding)) || (RecordedEncodingsOnly && !RfbServerMessageReader.CanRecord(encoding)))
            {
                // The encoding before it (CopyRect when none): the server's choice among what is left stays the browser's.
                BinaryPrimitives.WriteInt32BigEndian(buffer[(write + word)..], _lastKeptEncoding);
                _replacedEncodings++;
            }
            else
            {
                _lastKeptEncoding = encoding;
            }
        }

        write += usable;
        read += usable;
        _remaining -= usable;
        if (usable == piece)
        {
            return true;
        }

        buffer[read..end].CopyTo(_held);
        _heldCount = end - read;
        read = end;
        return false;
    }

    /// <summary>What the server reader must know of a forwarded message: the pixel size a SetPixelFormat asks for
    /// (<paramref name="bitsPerPixel"/> is its fifth byte), and whether the server may have started updates already.</summary>
    private string? TrackServerFormat(RfbClientMessageKind kind, byte bitsPerPixel, RfbServerMessageReader reader)
    {
        switch (kind)
        {
            case RfbClientMessageKind.SetPixelFormat when _updatesPossible:
                return "the browser changed the pixel format after its encodings or an update request, which a session whose VNC-to-browser stream the relay reads does not allow";
            case RfbClientMessageKind.SetPixelFormat:
                reader.ClientSetPixelFormat(bitsPerPixel);
                return null;
            case RfbClientMessageKind.SetEncodings or RfbClientMessageKind.FramebufferUpdateRequest or RfbClientMessageKind.EnableContinuousUpdates:
                _updatesPossible = true;
                return null;
            default:
                return null;
        }
    }

    private void Count(in RfbClientMessage message)
    {
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
    }

    /// <summary>The kind and whole length of the message at the start of <paramref name="data"/>, from as few bytes as
    /// its header needs (sizes: RFC 6143 section 7.5, rfbproto.rst for the extensions).</summary>
    internal static Measure MeasureMessage(ReadOnlySpan<byte> data, out RfbClientMessage message, out string? error)
    {
        message = default;
        error = null;
        var type = data[0];
        switch (type)
        {
            case 0:
                // Up to bits-per-pixel, which the server reader needs.
                return data.Length < 5 ? Measure.NeedMore : Fixed(RfbClientMessageKind.SetPixelFormat, 20, out message);
            case 2:
                if (data.Length < 4)
                {
                    return Measure.NeedMore;
                }

                return Fixed(RfbClientMessageKind.SetEncodings, 4 + (4L * BinaryPrimitives.ReadUInt16BigEndian(data[2..])), out message);
            case 3:
                // Whole, so a policy can make it non-incremental in place (RfbMessageVerdict.ForwardAsFullUpdate).
                return data.Length < 10 ? Measure.NeedMore : Input(RfbClientMessageKind.FramebufferUpdateRequest, 10, data[1], 0, 0, 0, out message);
            case 4:
                return data.Length < 8
                    ? Measure.NeedMore
                    : Input(RfbClientMessageKind.KeyEvent, 8, data[1], BinaryPrimitives.ReadUInt32BigEndian(data[4..]), 0, 0, out message);
            case 5:
                return data.Length < 6
                    ? Measure.NeedMore
                    : Input(RfbClientMessageKind.PointerEvent, 6, data[1], 0, BinaryPrimitives.ReadUInt16BigEndian(data[2..]), BinaryPrimitives.ReadUInt16BigEndian(data[4..]), out message);
            case 6:
                return MeasureCutText(data, out message, out error);
            case 150:
                return Fixed(RfbClientMessageKind.EnableContinuousUpdates, 10, out message);
            case 248:
                if (data.Length < 9)
                {
                    return Measure.NeedMore;
                }

                if (data[8] > MaxFencePayload)
                {
                    error = string.Create(CultureInfo.InvariantCulture,
                        $"the browser sent a ClientFence with {data[8]} bytes of payload; at most {MaxFencePayload} are allowed");
                    return Measure.Unknown;
                }

                return Fixed(RfbClientMessageKind.ClientFence, 9 + data[8], out message);
            case 250:
                return Fixed(RfbClientMessageKind.Xvp, 4, out message);
            case 251:
                if (data.Length < 8)
                {
                    return Measure.NeedMore;
                }

                return Fixed(RfbClientMessageKind.SetDesktopSize, 8 + (16 * data[6]), out message);
            case 253:
                if (data.Length < 4)
                {
                    return Measure.NeedMore;
                }

                // Byte 1 bit 7 says the message's own byte order (rfbproto.rst "gii Client Message").
                var giiLength = (data[1] & 0x80) != 0
                    ? BinaryPrimitives.ReadUInt16BigEndian(data[2..])
                    : BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
                return Fixed(RfbClientMessageKind.Gii, 4 + giiLength, out message);
            case 255:
                return MeasureQemu(data, out message, out error);
            default:
                error = string.Create(CultureInfo.InvariantCulture, $"the browser sent RFB message type {type}, which the relay does not know");
                return Measure.Unknown;
        }
    }

    /// <summary>ClientCutText: U8 type, 3 padding, S32 length; a negative length is the extended clipboard, whose payload
    /// starts with a U32 flags word (rfbproto.rst "Extended Clipboard Pseudo-Encoding").</summary>
    private static Measure MeasureCutText(ReadOnlySpan<byte> data, out RfbClientMessage message, out string? error)
    {
        message = default;
        error = null;
        if (data.Length < 8)
        {
            return Measure.NeedMore;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        if (length >= 0)
        {
            message = new RfbClientMessage { Kind = RfbClientMessageKind.ClientCutText, Type = 6, Length = 8L + length, ClipboardLength = length };
            return Measure.Complete;
        }

        var payload = -(long)length;
        if (payload < 4)
        {
            error = string.Create(CultureInfo.InvariantCulture,
                $"the browser sent an extended clipboard message of {payload} bytes, too short for its flags");
            return Measure.Unknown;
        }

        if (data.Length < MaxHeader)
        {
            return Measure.NeedMore;
        }

        message = new RfbClientMessage
        {
            Kind = RfbClientMessageKind.ClientCutText,
            Type = 6,
            Length = 8 + payload,
            ClipboardLength = payload,
            IsExtendedClipboard = true,
            ExtendedClipboardFlags = BinaryPrimitives.ReadUInt32BigEndian(data[8..]),
        };
        return Measure.Complete;
    }

    /// <summary>QEMU client messages (rfbproto.rst "QEMU Client Message"): subtype 0 is the extended key event; subtype 1
    /// is audio, whose U16 operation 0 or 1 (enable, disable) is 4 bytes and 2 (set format) 10.</summary>
    private static Measure MeasureQemu(ReadOnlySpan<byte> data, out RfbClientMessage message, out string? error)
    {
        message = default;
        error = null;
        if (data.Length < 2)
        {
            return Measure.NeedMore;
        }

        switch (data[1])
        {
            case 0:
                // U8 255, U8 0, U16 down-flag, U32 keysym, U32 keycode.
                return data.Length < 12
                    ? Measure.NeedMore
                    : Input(RfbClientMessageKind.QemuExtendedKeyEvent, 12, data[3], BinaryPrimitives.ReadUInt32BigEndian(data[4..]), 0, 0, out message);
            case 1:
                if (data.Length < 4)
                {
                    return Measure.NeedMore;
                }

                var operation = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
                if (operation <= 2)
                {
                    return Fixed(RfbClientMessageKind.QemuAudio, operation == 2 ? 10 : 4, out message);
                }

                error = string.Create(CultureInfo.InvariantCulture,
                    $"the browser sent QEMU audio operation {operation}, which the relay does not know");
                return Measure.Unknown;
            default:
                error = string.Create(CultureInfo.InvariantCulture,
                    $"the browser sent QEMU message subtype {data[1]}, which the relay does not know");
                return Measure.Unknown;
        }
    }

    private static Measure Fixed(RfbClientMessageKind kind, long length, out RfbClientMessage message)
    {
        message = new RfbClientMessage { Kind = kind, Length = length, Type = TypeOf(kind) };
        return Measure.Complete;
    }

    /// <summary>A short message read whole (at most <see cref="MaxHeader"/> bytes): what it says, for a recording's input
    /// records and for the update request a keyframe rewrites.</summary>
    private static Measure Input(RfbClientMessageKind kind, long length, byte downOrButtons, uint keySym, ushort x, ushort y, out RfbClientMessage message)
    {
        message = new RfbClientMessage { Kind = kind, Length = length, Type = TypeOf(kind), DownOrButtons = downOrButtons, KeySym = keySym, X = x, Y = y };
        return Measure.Complete;
    }

    private static byte TypeOf(RfbClientMessageKind kind) => kind switch
    {
        RfbClientMessageKind.SetPixelFormat => 0,
        RfbClientMessageKind.SetEncodings => 2,
        RfbClientMessageKind.FramebufferUpdateRequest => 3,
        RfbClientMessageKind.KeyEvent => 4,
        RfbClientMessageKind.PointerEvent => 5,
        RfbClientMessageKind.ClientCutText => 6,
        RfbClientMessageKind.EnableContinuousUpdates => 150,
        RfbClientMessageKind.ClientFence => 248,
        RfbClientMessageKind.Xvp => 250,
        RfbClientMessageKind.SetDesktopSize => 251,
        RfbClientMessageKind.Gii => 253,
        _ => 255,
    };
}
