using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansVncCluster.IntegrationTests.Rfb;

/// <summary>A private CA and a VNC server certificate it signs, as PEM files for Xvnc's -X509Cert and -X509Key.</summary>
public static class RfbCertificates
{
    public static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes a certificate for 127.0.0.1 named <paramref name="name"/>, signed by <paramref name="issuer"/>, and
    /// its key; returns the two paths.</summary>
    public static (string Certificate, string Key) WriteServerPem(X509Certificate2 issuer, string name, string directory)
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
        using var certificate = request.Create(issuer, issuer.NotBefore.AddMinutes(1), issuer.NotAfter.AddMinutes(-1), RandomNumberGenerator.GetBytes(12));
        var certificatePath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    public static string WriteCaPem(X509Certificate2 ca, string directory)
    {
        var path = Path.Combine(directory, "ca.pem");
        File.WriteAllText(path, ca.ExportCertificatePem());
        return path;
    }
}
