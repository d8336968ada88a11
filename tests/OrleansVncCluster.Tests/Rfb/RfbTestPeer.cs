using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>Helpers for scripting the far end of an RFB exchange in a test.</summary>
public static class RfbTestPeer
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static readonly byte[] PixelFormat = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];

    public static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        using var timeout = new CancellationTokenSource(Patience);
        await stream.ReadExactlyAsync(bytes, timeout.Token);
        return bytes;
    }

    public static async Task<string> ReadTextAsync(Stream stream, int count) => Encoding.ASCII.GetString(await ReadAsync(stream, count));

    public static async Task WriteAsync(Stream stream, params byte[] bytes)
    {
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public static Task WriteTextAsync(Stream stream, string text) => WriteAsync(stream, Encoding.ASCII.GetBytes(text));

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    public static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }

    public static byte[] S32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>A SetEncodings message asking for <paramref name="encodings"/>, in order.</summary>
    public static byte[] EncodingsMessage(params int[] encodings) => [2, 0, .. U16(encodings.Length), .. encodings.SelectMany(S32)];

    public static byte[] Reason(string text) => [.. U32((uint)Encoding.UTF8.GetByteCount(text)), .. Encoding.UTF8.GetBytes(text)];

    public static byte[] ServerInit(int width, int height, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var bytes = new byte[24 + nameBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)height);
        PixelFormat.CopyTo(bytes, 4);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)nameBytes.Length);
        nameBytes.CopyTo(bytes, 24);
        return bytes;
    }

    /// <summary>The expected VNC authentication answer, computed independently of the relay: DES-ECB keyed by the
    /// password's bytes mirrored bit by bit.</summary>
    public static byte[] ExpectedVncResponse(string password, byte[] challenge)
    {
        var key = new byte[8];
        var bytes = Encoding.UTF8.GetBytes(password);
        for (var i = 0; i < Math.Min(8, bytes.Length); i++)
        {
            var mirrored = 0;
            var value = bytes[i];
            for (var bit = 0; bit < 8; bit++)
            {
                if ((value & (0x80 >> bit)) != 0)
                {
                    mirrored |= 1 << bit;
                }
            }

            key[i] = (byte)mirrored;
        }

#pragma warning disable CA5351 // the VNC authentication answer is DES by definition (RFC 6143 section 7.2.2)
        using var des = DES.Create();
#pragma warning restore CA5351
        des.Key = key;
        return des.EncryptEcb(challenge, PaddingMode.None);
    }

    /// <summary>A CA certificate with its key.</summary>
    public static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A server certificate for 127.0.0.1 and vnc.test, signed by <paramref name="issuer"/>.</summary>
    public static X509Certificate2 CreateServerCertificate(X509Certificate2 issuer, string name = "vnc.test")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        // Within the issuer's validity, or Create refuses when the clock ticks between the two certificates.
        using var signed = request.Create(issuer, issuer.NotBefore.AddMinutes(1), issuer.NotAfter.AddMinutes(-1), RandomNumberGenerator.GetBytes(12));
        using var withKey = signed.CopyWithPrivateKey(key);
        // A PFX round trip gives the key a form SslStream can use as a server on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    public static string WriteCaFile(params X509Certificate2[] cas)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ovc-rfb-").FullName, "ca.pem");
        File.WriteAllText(path, string.Concat(cas.Select(c => c.ExportCertificatePem() + "\n")));
        return path;
    }
}
