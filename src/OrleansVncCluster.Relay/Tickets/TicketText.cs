using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The ticket text, in two versions, every part URL-safe (base64url without padding) so it travels unescaped in a
/// <c>token</c> or <c>ticket</c> query value, a fragment or a cookie, with a prefix no md5 token (32 hex digits) can have.
/// <para><c>vt2.KEYID.SEALED</c> (issued since issue 12): SEALED is a 12-byte random nonce, then the AES-256-GCM encryption of
/// the body under a key derived from the ticket secret with HKDF (<see cref="TicketKey"/>), then its 16-byte tag; the
/// associated data is the ASCII text <c>vt2.KEYID.</c>, so version and key id are authenticated too. The body is expiry
/// (unix seconds, 8 bytes big-endian), redemption nonce (16 bytes), flags (1 byte: bit 0 single use, bit 1 view only, bit 2
/// no clipboard to the VM, bit 3 no clipboard from the VM, bit 4 may share view-only links (a control ticket only), bit 5
/// record the session: clear bits keep the tickets issued before them valid, meaning the cluster's default, "may not
/// share" and "not asked to record"),
/// then four fields of a 2-byte big-endian length and UTF-8 text: the VM token, the VM binding
/// (<see cref="TicketBinding"/>), the VM id, the user. Nothing of the token or the VM is readable without the secret.</para>
/// <para><c>vt1.KEYID.BODY.MAC</c> (legacy, read only while Tickets:AcceptV1Tickets): BODY is expiry, nonce, flags, then
/// the VM token in clear text; MAC is HMAC-SHA256 over the ASCII text before it.</para>
/// Altering any character of either text changes what is authenticated, or the tag itself.
/// </summary>
public static class TicketText
{
    /// <summary>Every legacy ticket starts with this.</summary>
    public const string Prefix = "vt1.";

    /// <summary>Every sealed, VM-bound ticket starts with this.</summary>
    public const string PrefixV2 = "vt2.";

    /// <summary>Longest ticket text read: a vt2 ticket with a VM token of <see cref="TokenText.MaxLength"/>, a VM id and a user still fits.</summary>
    public const int MaxLength = 1024;

    /// <summary>Longest user name a ticket carries.</summary>
    public const int MaxUserLength = 128;

    /// <summary>Longest VM id a ticket carries.</summary>
    public const int MaxVmIdLength = 64;

    private const int NonceBytes = 16;
    private const int MacBytes = 32;
    private const int FixedBodyBytes = 8 + NonceBytes + 1;
    private const byte SingleUseFlag = 1;
    private const byte ViewOnlyFlag = 2;
    private const byte MayShareFlag = 16;
    private const byte RecordFlag = 32;
    private const int KeyIdLength = 8;
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    /// <summary>True when <paramref name="text"/> claims to be a ticket of either version (whether or not it verifies).</summary>
    public static bool LooksLikeTicket(string? text) =>
        text is not null && (text.StartsWith(Prefix, StringComparison.Ordinal) || text.StartsWith(PrefixV2, StringComparison.Ordinal));

    /// <summary>Seals a new vt2 ticket for <paramref name="token"/>, bound to the VM <paramref name="binding"/> names.</summary>
    public static string Issue(TicketKey key, string token, string binding, DateTimeOffset expiresAt, bool singleUse, bool viewOnly = false,
        string? vmId = null, string? user = null, ClipboardDirections clipboard = ClipboardDirections.Both, bool mayShare = false,
        bool record = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(binding);
        if (mayShare && viewOnly)
        {
            throw new ArgumentException("only a control ticket may share: a view ticket carries no share flag", nameof(mayShare));
        }

        if (!TokenText.IsWellFormed(token))
        {
            throw new ArgumentException("a ticket can only carry a well-formed console token", nameof(token));
        }

        if ((vmId?.Length ?? 0) > MaxVmIdLength || (user?.Length ?? 0) > MaxUserLength)
        {
            throw new ArgumentException($"a ticket carries a VM id of at most {MaxVmIdLength} and a user of at most {MaxUserLength} characters");
        }

        Span<byte> head = stackalloc byte[FixedBodyBytes];
        BinaryPrimitives.WriteInt64BigEndian(head, expiresAt.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(head.Slice(8, NonceBytes));
        head[8 + NonceBytes] = (byte)(Flags(singleUse, viewOnly) | ClipboardText.ToFlags(clipboard) | (mayShare ? MayShareFlag : 0) | (record ? RecordFlag : 0));
        var body = SealedText.Body(head, [token, binding, vmId ?? "", user ?? ""]);
        return SealedText.Seal(PrefixV2, key, body, (plain, associated) => key.Seal(plain, associated));
    }

    /// <summary>Signs a legacy vt1 ticket (token in clear text, no VM binding): for tests of the compatibility path only.</summary>
    public static string IssueV1(TicketKey key, string token, DateTimeOffset expiresAt, bool singleUse, bool viewOnly = false)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!TokenText.IsWellFormed(token))
        {
            throw new ArgumentException("a ticket can only carry a well-formed console token", nameof(token));
        }

        var tokenBytes = Encoding.UTF8.GetBytes(token);
        var body = new byte[FixedBodyBytes + tokenBytes.Length];
        BinaryPrimitives.WriteInt64BigEndian(body, expiresAt.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(body.AsSpan(8, NonceBytes));
        body[8 + NonceBytes] = Flags(singleUse, viewOnly);
        tokenBytes.CopyTo(body.AsSpan(FixedBodyBytes));

        var signed = $"{Prefix}{key.Id}.{Base64Url.EncodeToString(body)}";
        Span<byte> mac = stackalloc byte[MacBytes];
        key.Mac(Encoding.ASCII.GetBytes(signed), mac);
        return $"{signed}.{Base64Url.EncodeToString(mac)}";
    }

    /// <summary>
    /// Verifies a presented ticket of either version: shape, key, authentication (constant time), then expiry. The body
    /// is read only after it authenticated, so nothing a forger writes is ever interpreted. Never throws on any input.
    /// </summary>
    public static TicketStatus Verify(string? text, Func<string, TicketKey?> findKey, DateTimeOffset now, out ConsoleTicket? ticket)
    {
        ArgumentNullException.ThrowIfNull(findKey);
        ticket = null;
        if (text is null || text.Length > MaxLength)
        {
            return TicketStatus.Malformed;
        }

        if (text.StartsWith(PrefixV2, StringComparison.Ordinal))
        {
            return VerifyV2(text, findKey, now, out ticket);
        }

        return text.StartsWith(Prefix, StringComparison.Ordinal) ? VerifyV1(text, findKey, now, out ticket) : TicketStatus.Malformed;
    }

    private static TicketStatus VerifyV2(string text, Func<string, TicketKey?> findKey, DateTimeOffset now, out ConsoleTicket? ticket)
    {
        ticket = null;
        var opened = SealedText.Open(text, PrefixV2, findKey, (key, sealedBytes, associated) => key.Open(sealedBytes, associated), out var keyId, out var body);
        if (opened != TicketStatus.Valid)
        {
            return opened;
        }

        if (body!.Length < FixedBodyBytes || !SealedText.TryReadFields(body.AsSpan(FixedBodyBytes), 4, out var fields) || !TokenText.IsWellFormed(fields[0]) || fields[1].Length == 0)
        {
            return TicketStatus.Malformed;
        }

        ticket = Read(keyId, fields[0], body) with
        {
            Version = 2,
            // Only vt2 carries it (vt1 bodies never set bit 4), and never with view only: such a body was not sealed here.
            MayShare = (body[8 + NonceBytes] & (MayShareFlag | ViewOnlyFlag)) == MayShareFlag,
            Binding = fields[1],
            VmId = fields[2].Length > 0 ? fields[2] : null,
            User = fields[3].Length > 0 ? fields[3] : null,
        };
        CryptographicOperations.ZeroMemory(body);
        return now >= ticket.ExpiresAt ? TicketStatus.Expired : TicketStatus.Valid;
    }

    private static TicketStatus VerifyV1(string text, Func<string, TicketKey?> findKey, DateTimeOffset now, out ConsoleTicket? ticket)
    {
        ticket = null;
        var rest = text.AsSpan(Prefix.Length);
        var firstDot = rest.IndexOf('.');
        var lastDot = rest.LastIndexOf('.');
        if (firstDot != KeyIdLength || lastDot <= firstDot + 1 || rest.Length - lastDot - 1 != MacChars)
        {
            return TicketStatus.Malformed;
        }

        var keyId = rest[..firstDot].ToString();
        if (!Base64Url.IsValid(keyId) || !Base64Url.IsValid(rest[(lastDot + 1)..]) || !Base64Url.IsValid(rest[(firstDot + 1)..lastDot]))
        {
            return TicketStatus.Malformed;
        }

        if (findKey(keyId) is not { } key)
        {
            return TicketStatus.UnknownKey;
        }

        var signedLength = Prefix.Length + lastDot;
        Span<byte> signed = stackalloc byte[MaxLength];
        var signedBytes = Encoding.ASCII.GetBytes(text.AsSpan(0, signedLength), signed);
        Span<byte> expected = stackalloc byte[MacBytes];
        key.Mac(signed[..signedBytes], expected);
        // Compare the MAC as text: base64url leaves spare bits in its last character, and comparing decoded bytes would
        // accept a ticket whose last character was altered in those bits only.
        Span<char> expectedText = stackalloc char[MacChars];
        Base64Url.EncodeToChars(expected, expectedText);
        if (!CryptographicOperations.FixedTimeEquals(MemoryMarshalBytes(expectedText), MemoryMarshalBytes(rest[(lastDot + 1)..])))
        {
            return TicketStatus.BadSignature;
        }

        var body = Base64Url.DecodeFromChars(rest[(firstDot + 1)..lastDot]);
        if (body.Length <= FixedBodyBytes || !TryReadToken(body.AsSpan(FixedBodyBytes), out var token))
        {
            return TicketStatus.Malformed;
        }

        ticket = Read(keyId, token, body);
        return now >= ticket.ExpiresAt ? TicketStatus.Expired : TicketStatus.Valid;
    }

    private static ConsoleTicket Read(string keyId, string token, byte[] body)
    {
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(body),
            DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        var flags = body[8 + NonceBytes];
        return new ConsoleTicket(keyId, token, expiresAt, Base64Url.EncodeToString(body.AsSpan(8, NonceBytes)),
            (flags & SingleUseFlag) != 0, (flags & ViewOnlyFlag) != 0)
        {
            Clipboard = ClipboardText.FromFlags(flags),
            Record = (flags & RecordFlag) != 0,
        };
    }

    private static byte Flags(bool singleUse, bool viewOnly) => (byte)((singleUse ? SingleUseFlag : 0) | (viewOnly ? ViewOnlyFlag : 0));

    private static bool TryReadToken(ReadOnlySpan<byte> bytes, out string token)
    {
        token = "";
        try
        {
            token = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (ArgumentException)
        {
            return false;
        }

        return TokenText.IsWellFormed(token);
    }

    private static ReadOnlySpan<byte> MemoryMarshalBytes(ReadOnlySpan<char> text) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(text);
}
