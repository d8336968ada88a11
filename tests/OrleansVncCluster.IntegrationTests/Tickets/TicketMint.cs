using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Tickets;

/// <summary>
/// Writes tickets from the format as docs/OPERATIONS.md describes it (vt2.KEYID.SEALED, AES-256-GCM under an HKDF key),
/// independently of the relay's code, so the tests can present tickets no node would issue: expired ones, and ones
/// sealed with a foreign secret.
/// </summary>
internal static class TicketMint
{
    /// <summary>The binding of a token-file entry: the first 16 bytes of SHA-256("entry" US source US target), base64url.</summary>
    public static string FileBinding(string tokenFile, string target) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes($"entry\u001ffile:{Path.GetFullPath(tokenFile)}\u001f{target}")).AsSpan(0, 16));

    public static string Issue(string secret, string token, string binding, DateTimeOffset expiresAt, bool singleUse = false)
    {
        var raw = Encoding.UTF8.GetBytes(secret);
        var keyId = Base64Url.EncodeToString(HMACSHA256.HashData(raw, "vnc-relay console ticket key id"u8).AsSpan(0, 6));
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, [], "vnc-relay console ticket vt2 aes-256-gcm"u8.ToArray());
        using var body = new MemoryStream();
        Span<byte> fixedPart = stackalloc byte[25];
        BinaryPrimitives.WriteInt64BigEndian(fixedPart, expiresAt.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(fixedPart.Slice(8, 16));
        fixedPart[24] = singleUse ? (byte)1 : (byte)0;
        body.Write(fixedPart);
        foreach (var field in new[] { token, binding, "", "" })
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            var length = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)bytes.Length);
            body.Write(length);
            body.Write(bytes);
        }

        var plaintext = body.ToArray();
        var head = $"vt2.{keyId}.";
        var sealedBytes = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, 12));
        using var gcm = new AesGcm(key, 16);
        gcm.Encrypt(sealedBytes.AsSpan(0, 12), plaintext, sealedBytes.AsSpan(12, plaintext.Length), sealedBytes.AsSpan(12 + plaintext.Length), Encoding.ASCII.GetBytes(head));
        return head + Base64Url.EncodeToString(sealedBytes);
    }

    /// <summary>The ticket with one character of its sealed part changed (its tag no longer matches).</summary>
    public static string Tamper(string ticket)
    {
        var at = ticket.IndexOf('.', "vt2.".Length) + 3;
        return string.Concat(ticket.AsSpan(0, at), ticket[at] == 'A' ? "B" : "A", ticket.AsSpan(at + 1));
    }
}
