using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Tickets;

/// <summary>
/// Writes tickets from the format as docs/OPERATIONS.md describes it (vt1.KEYID.BODY.MAC), independently of the relay's
/// code, so the tests can present tickets no node would issue: expired ones, and ones signed with a foreign secret.
/// </summary>
internal static class TicketMint
{
    public static string Issue(string secret, string token, DateTimeOffset expiresAt, bool singleUse = false)
    {
        var raw = Encoding.UTF8.GetBytes(secret);
        var macKey = HMACSHA256.HashData(raw, "vnc-relay console ticket mac"u8);
        var keyId = Base64Url.EncodeToString(HMACSHA256.HashData(raw, "vnc-relay console ticket key id"u8).AsSpan(0, 6));
        var tokenBytes = Encoding.UTF8.GetBytes(token);
        var body = new byte[8 + 16 + 1 + tokenBytes.Length];
        BinaryPrimitives.WriteInt64BigEndian(body, expiresAt.ToUnixTimeSeconds());
        RandomNumberGenerator.Fill(body.AsSpan(8, 16));
        body[24] = singleUse ? (byte)1 : (byte)0;
        tokenBytes.CopyTo(body.AsSpan(25));
        var signed = $"vt1.{keyId}.{Base64Url.EncodeToString(body)}";
        return $"{signed}.{Base64Url.EncodeToString(HMACSHA256.HashData(macKey, Encoding.ASCII.GetBytes(signed)))}";
    }

    /// <summary>The ticket with one character of its body changed (the signature no longer matches).</summary>
    public static string Tamper(string ticket)
    {
        var at = ticket.IndexOf('.', "vt1.".Length) + 3;
        return string.Concat(ticket.AsSpan(0, at), ticket[at] == 'A' ? "B" : "A", ticket.AsSpan(at + 1));
    }
}
