using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>
/// The one shape of the sealed texts, <c>PREFIX.KEYID.SEALED</c> (vt2 tickets, vr1 resume credentials): a body of fixed
/// bytes then length-prefixed UTF-8 fields, sealed under a key of the ring with the ASCII head <c>PREFIX.KEYID.</c> as
/// associated data, and read back only after it authenticated. Which of the key's seals is used is the caller's.
/// </summary>
internal static class SealedText
{
    /// <summary>Bytes of a key id's text.</summary>
    public const int KeyIdLength = 8;

    /// <summary>Fixed bytes, then each field as a 2-byte big-endian length and its UTF-8 bytes.</summary>
    public static byte[] Body(ReadOnlySpan<byte> fixedPart, IReadOnlyList<string> fields)
    {
        var encoded = fields.Select(Encoding.UTF8.GetBytes).ToArray();
        var body = new byte[fixedPart.Length + encoded.Sum(f => 2 + f.Length)];
        fixedPart.CopyTo(body);
        var at = fixedPart.Length;
        foreach (var field in encoded)
        {
            BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(at), (ushort)field.Length);
            field.CopyTo(body.AsSpan(at + 2));
            at += 2 + field.Length;
        }

        return body;
    }

    /// <summary>The text of <paramref name="body"/> sealed by <paramref name="seal"/> (body, associated data); the body is wiped.</summary>
    public static string Seal(string prefix, TicketKey key, byte[] body, Func<byte[], byte[], byte[]> seal)
    {
        var head = $"{prefix}{key.Id}.";
        var sealedBody = seal(body, Encoding.ASCII.GetBytes(head));
        CryptographicOperations.ZeroMemory(body);
        return head + Base64Url.EncodeToString(sealedBody);
    }

    /// <summary>
    /// Reads <c>PREFIX.KEYID.SEALED</c>: shape, key (<paramref name="findKey"/>), the one canonical base64url spelling, then
    /// <paramref name="open"/> (key, sealed bytes, associated data). <paramref name="body"/> is set only when it authenticated.
    /// </summary>
    public static TicketStatus Open(string text, string prefix, Func<string, TicketKey?> findKey, Func<TicketKey, byte[], byte[], byte[]?> open,
        out string keyId, out byte[]? body)
    {
        keyId = "";
        body = null;
        var rest = text.AsSpan(prefix.Length);
        var dot = rest.IndexOf('.');
        if (dot != KeyIdLength || rest[(dot + 1)..].IndexOf('.') >= 0)
        {
            return TicketStatus.Malformed;
        }

        keyId = rest[..dot].ToString();
        var sealedText = rest[(dot + 1)..];
        if (!Base64Url.IsValid(keyId) || !Base64Url.IsValid(sealedText))
        {
            return TicketStatus.Malformed;
        }

        if (findKey(keyId) is not { } key)
        {
            return TicketStatus.UnknownKey;
        }

        var sealedBytes = Base64Url.DecodeFromChars(sealedText);
        // base64url leaves spare bits in its last character, which decoding ignores: only the one canonical spelling of
        // the sealed bytes is accepted, so that no character of the text can change without it being refused.
        if (!sealedText.SequenceEqual(Base64Url.EncodeToString(sealedBytes)))
        {
            return TicketStatus.BadSignature;
        }

        body = open(key, sealedBytes, Encoding.ASCII.GetBytes(text[..(prefix.Length + KeyIdLength + 1)]));
        return body is null ? TicketStatus.BadSignature : TicketStatus.Valid;
    }

    /// <summary>Reads exactly <paramref name="count"/> length-prefixed strict UTF-8 fields and nothing after them.</summary>
    public static bool TryReadFields(ReadOnlySpan<byte> bytes, int count, out string[] fields)
    {
        fields = new string[count];
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (var i = 0; i < fields.Length; i++)
        {
            if (bytes.Length < 2)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(bytes);
            if (bytes.Length < 2 + length)
            {
                return false;
            }

            try
            {
                fields[i] = strict.GetString(bytes.Slice(2, length));
            }
            catch (ArgumentException)
            {
                return false;
            }

            bytes = bytes[(2 + length)..];
        }

        return bytes.IsEmpty;
    }
}
