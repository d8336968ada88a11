using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>What a verified ticket grants: one VM token, until an instant, maybe once.</summary>
/// <param name="KeyId">The key that signed it.</param>
/// <param name="Token">The console token (VM) it opens.</param>
/// <param name="ExpiresAt">After this instant it no longer opens a console; a session opened before it lives on.</param>
/// <param name="Nonce">Random, unique per ticket: the key of its single-use redemption.</param>
/// <param name="SingleUse">True when the cluster lets it open one session only.</param>
public sealed record ConsoleTicket(string KeyId, string Token, DateTimeOffset ExpiresAt, string Nonce, bool SingleUse);

/// <summary>Why a presented ticket was not accepted.</summary>
public enum TicketStatus
{
    /// <summary>Signature good, not expired.</summary>
    Valid,

    /// <summary>Not shaped like a ticket of this version.</summary>
    Malformed,

    /// <summary>Signed with a key id this relay does not know (another cluster's secret, or a retired one).</summary>
    UnknownKey,

    /// <summary>The MAC does not match: altered, or forged.</summary>
    BadSignature,

    /// <summary>Past its expiry.</summary>
    Expired,
}

/// <summary>One signing secret, as the ring holds it: the derived MAC key and its public id.</summary>
public sealed class TicketKey
{
    private const string MacLabel = "vnc-relay console ticket mac";
    private const string IdLabel = "vnc-relay console ticket key id";

    private readonly byte[] _macKey;

    /// <summary>Derives the MAC key and the key id from an operator's secret text.</summary>
    public TicketKey(string secret)
    {
        var raw = Encoding.UTF8.GetBytes(secret);
        // Separate derivations for the MAC key and the id, so the id printed in every ticket says nothing about the key.
        _macKey = HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(MacLabel));
        Id = Base64Url.EncodeToString(HMACSHA256.HashData(raw, Encoding.ASCII.GetBytes(IdLabel)).AsSpan(0, 6));
        CryptographicOperations.ZeroMemory(raw);
    }

    /// <summary>8 URL-safe characters naming the key in tickets, logs and metrics; derived, so every node agrees.</summary>
    public string Id { get; }

    internal void Mac(ReadOnlySpan<byte> signed, Span<byte> mac) => HMACSHA256.HashData(_macKey, signed, mac);
}

/// <summary>
/// The ticket text: <c>vt1.KEYID.BODY.MAC</c>, every part URL-safe (base64url without padding) so it travels unescaped in
/// a <c>token</c> or <c>ticket</c> query value, a fragment or a cookie, and a "vt1." prefix no md5 token (32 hex digits)
/// can have. BODY is expiry (unix seconds, 8 bytes big-endian), nonce (16 bytes), flags (1 byte), then the VM token in
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
    private const int KeyIdLength = 8;
    private static readonly int MacChars = Base64Url.GetEncodedLength(MacBytes);

    /// <summary>True when <paramref name="text"/> claims to be a ticket (whether or not it verifies).</summary>
    public static bool LooksLikeTicket(string? text) => text is not null && text.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Signs a new ticket for <paramref name="token"/>.</summary>
    public static string Issue(TicketKey key, string token, DateTimeOffset expiresAt, bool singleUse)
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
        body[8 + NonceBytes] = singleUse ? SingleUseFlag : (byte)0;
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
            (body[8 + NonceBytes] & SingleUseFlag) != 0);
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
