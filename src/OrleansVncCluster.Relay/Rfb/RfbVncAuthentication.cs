using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The response to VNC authentication's challenge (RFC 6143 section 7.2.2): the 16-byte challenge encrypted
/// with DES in ECB mode.</summary>
internal static class RfbVncAuthentication
{
    public const int ChallengeLength = 16;

    /// <summary>The key is the password's first 8 bytes, zero-padded; every key byte has its bits reversed, which the
    /// RFC leaves out and every implementation does (TigerVNC common/rfb/d3des.c, noVNC core/crypto/des.js; observed
    /// against Xtigervnc 1.12, see docs/RFB.md).</summary>
    public static byte[] Respond(string password, ReadOnlySpan<byte> challenge)
    {
        Span<byte> key = stackalloc byte[8];
        key.Clear();
        var bytes = Encoding.UTF8.GetBytes(password);
        for (var i = 0; i < key.Length && i < bytes.Length; i++)
        {
            key[i] = ReverseBits(bytes[i]);
        }

#pragma warning disable CA5351 // VNC authentication is defined with DES (RFC 6143 section 7.2.2); the relay must answer it.
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key.ToArray();
        CryptographicOperations.ZeroMemory(key);
        return des.EncryptEcb(challenge, PaddingMode.None);
    }

    private static byte ReverseBits(byte value)
    {
        var result = 0;
        for (var bit = 0; bit < 8; bit++)
        {
            result |= ((value >> bit) & 1) << (7 - bit);
        }

        return (byte)result;
    }
}
