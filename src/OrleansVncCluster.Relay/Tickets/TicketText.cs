using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The ticket text: <c>vt1.KEYID.BODY.MAC</c>, every part URL-safe (base64url without padding) so it travels unescaped in
/// a <c>token</c> or <c>ticket</c> query value, a fragment or a cookie, and a "vt1." prefix no md5 token (32 hex digits)
/// can have. BODY is expiry (unix seconds, 8 bytes big-endian), nonce (16 bytes), flags (1 byte: bit 0 single use,
/// bit 1 view only; a ticket issued before roles has bit 1 clear and stays a control ticket), then the VM token in
/// UTF-8. MAC is HMAC-SHA256 over the ASCII text before it, so it covers version, key id, expiry, nonce, flags and token,
/// and altering any character of the text changes the MAC input or the MAC itself.
/// </summary>
public static class TicketText
{
    /// <summary>Every ticket starts with this.</summary>
    public const string Prefix = "vt1.";

    /// <summary>Longest ticket text read: a VM token of <see cref="TokenText.MaxLength"/> still fits.</summary>
    public const int MaxLength = 512;

    private const int NonceBytes = 16;
    private const int MacBytes = 32;
    private const int FixedBodyBytes = 8 + NonceBytes + 1;
    private const byte SingleUseFlag = 1;
    private const byte ViewOnlyFlag = 2;
    private const int KeyIdLength = 8;
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    /// <summary>True when <paramref name="text"/> claims to be a ticket (whether or not it verifies).</summary>
    public static bool LooksLikeTicket(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Signs a new ticket for <paramref name="token"/>.</summary>
    public static string Issue(TicketKey key, string token, DateTimeOffset expiresAt, bool singleUse, bool viewOnly = false)
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
        body[8 + NonceBytes] = (byte)((singleUse ? SingleUseFlag : 0) | (viewOnly ? ViewOnlyFlag : 0));
        tokenBytes.CopyTo(body.AsSpan(FixedBodyBytes));

        var signed = $"{Prefix}{key.Id}.{Base64Url.EncodeToString(body)}";
        Span<byte> mac = stackalloc byte[MacBytes];
        key.Mac(Encoding.ASCII.GetBytes(signed), mac);
        return $"{signed}.{Base64Url.EncodeToString(mac)}";
    }

    /// <summary>
    /// Verifies a presented ticket: shape, key, MAC (constant time), then expiry. The body is read only after its MAC
    /// matched, so nothing a forger writes is ever interpreted. Never throws on any input.
    /// </summary>
    public static TicketStatus Verify(string? text, Func<string, TicketKey?> findKey, DateTimeOffset now, out ConsoleTicket? ticket)
    {
        ArgumentNullException.ThrowIfNull(findKey);
        ticket = null;
        if (text is null || text.Length > MaxLength || !LooksLikeTicket(text))
        {
            return TicketStatus.Malformed;
        }

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

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(BinaryPrimitives.ReadInt64BigEndian(body),
            DateTimeOffset.MinValue.ToUnixTimeSeconds(), DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        ticket = new ConsoleTicket(keyId, token, expiresAt, Base64Url.EncodeToString(body.AsSpan(8, NonceBytes)),
            (body[8 + NonceBytes] & SingleUseFlag) != 0, (body[8 + NonceBytes] & ViewOnlyFlag) != 0);
        return now >= expiresAt ? TicketStatus.Expired : TicketStatus.Valid;
    }

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
