using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>
/// VNC authentication (RFC 6143 section 7.2.2) for the bench's own RFB server and client, written apart from the
/// relay's Rfb/RfbVncAuthentication.cs so a mistake there cannot agree with itself: the 16-byte challenge encrypted with
/// DES in ECB mode, the key being the password's first 8 bytes with each byte's bits reversed (TigerVNC d3des.c).
/// </summary>
internal static class VncAuthentication
{
    public const int ChallengeLength = 16;

    public static byte[] Response(string password, ReadOnlySpan<byte> challenge)
    {
        var key = new byte[8];
        var bytes = Encoding.ASCII.GetBytes(password);
        for (var i = 0; i < key.Length && i < bytes.Length; i++)
        {
            var b = bytes[i];
            var reversed = 0;
            for (var bit = 0; bit < 8; bit++)
            {
                reversed |= ((b >> bit) & 1) << (7 - bit);
            }

            key[i] = (byte)reversed;
        }

#pragma warning disable CA5351 // VNC authentication is DES by definition (RFC 6143 section 7.2.2).
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }
}
