using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Tests.Cluster;

/// <summary>
/// Cluster:Tls:* at start-up (each mistake named with what to fix) and the peer check the silo's TLS layer runs: only
/// certificates that chain to the configured CA file get in, whatever the system trusts.
/// </summary>
public sealed class SiloTlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ovc-silo-tls-").FullName;
    private readonly X509Certificate2 _ca = Ca("cluster CA");

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void NoTlsSetting_MeansSiloTrafficInClear()
    {
        var problems = new List<string>();
        Assert.Null(SiloTls.From(Configuration([]), problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void CertificateOfTheCa_Loads_AndItsPeersAreLetIn()
    {
        using var node = Leaf("node1", _ca);
        var settings = Load(Write(node, "node1"));

        Assert.Empty(settings.Problems);
        Assert.NotNull(settings.Tls);
        using var peer = Leaf("node2", _ca);
        Assert.Null(SiloTls.Refusal(peer, settings.Tls.Authorities));
        Assert.True(settings.Tls.Validate(peer, null, SslPolicyErrors.RemoteCertificateNameMismatch, (_, reason) => Assert.Fail(reason)));
    }

    [Fact]
    public void PeerFromAnotherCa_OrWithoutCertificate_OrSelfSigned_IsRefused()
    {
        using var node = Leaf("node1", _ca);
        var tls = Load(Write(node, "node1")).Tls!;
        using var otherCa = Ca("other CA");
        using var foreign = Leaf("intruder", otherCa);
        using var selfSigned = Leaf("self", null);

        Assert.Contains("does not chain to the cluster CA", SiloTls.Refusal(foreign, tls.Authorities), StringComparison.Ordinal);
        Assert.Contains("does not chain to the cluster CA", SiloTls.Refusal(selfSigned, tls.Authorities), StringComparison.Ordinal);
        Assert.Equal("no certificate presented", SiloTls.Refusal(null, tls.Authorities));

        // The platform may call a certificate fine (a public root, say): the CA file alone decides.
        string? logged = null;
        Assert.False(tls.Validate(foreign, null, SslPolicyErrors.None, (subject, _) => logged = subject));
        Assert.Equal("CN=intruder", logged);
    }

    [Fact]
    public void PeerOnlyForServerUse_IsRefused_BecauseSilosAlsoDial()
    {
        using var node = Leaf("node1", _ca);
        var tls = Load(Write(node, "node1")).Tls!;
        using var serverOnly = Leaf("web", _ca, ["1.3.6.1.5.5.7.3.1"]);

        Assert.Contains("lacks serverAuth or clientAuth", SiloTls.Refusal(serverOnly, tls.Authorities), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsNamed()
    {
        using var node = Leaf("node1", _ca);
        var (certificate, key, ca) = Write(node, "node1");
        File.Delete(key);

        var problem = Assert.Single(Load((certificate, key, ca)).Problems);
        Assert.Contains($"Cluster:Tls:KeyFile '{key}' does not exist", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlySomeSettings_AreRefused()
    {
        var problems = new List<string>();
        SiloTls.From(Configuration(new() { ["Cluster:Tls:CertificateFile"] = "/x.crt" }), problems);
        Assert.Contains("needs both CertificateFile", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void KeyOfAnotherCertificate_IsRefusedSayingHowToCompare()
    {
        using var node = Leaf("node1", _ca);
        using var other = Leaf("node2", _ca);
        var (certificate, _, ca) = Write(node, "node1");
        var (_, otherKey, _) = Write(other, "node2");

        var problem = Assert.Single(Load((certificate, otherKey, ca)).Problems);
        Assert.Contains("does not load", problem, StringComparison.Ordinal);
        Assert.Contains("openssl x509 -noout -pubkey", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpiredCertificate_IsRefusedSayingRenew()
    {
        using var node = Leaf("node1", _ca, notAfter: DateTimeOffset.UtcNow.AddMinutes(-1));

        var problem = Assert.Single(Load(Write(node, "node1")).Problems);
        Assert.Contains("is not valid now", problem, StringComparison.Ordinal);
        Assert.Contains("it expired; renew it from the cluster CA", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void OwnCertificateFromAnotherCa_IsRefusedAtStartUp()
    {
        using var otherCa = Ca("other CA");
        using var node = Leaf("node1", otherCa);

        var problem = Assert.Single(Load(Write(node, "node1")).Problems);
        Assert.Contains("is not accepted by Cluster:Tls:CaFile", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CaFileWithoutCertificate_IsRefused()
    {
        using var node = Leaf("node1", _ca);
        var (certificate, key, ca) = Write(node, "node1");
        File.WriteAllText(ca, "not a certificate\n");

        var problem = Assert.Single(Load((certificate, key, ca)).Problems);
        Assert.Contains("holds no PEM certificate", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterSettings_CarryTheTlsSettings_OrReportTheirProblem()
    {
        using var node = Leaf("node1", _ca);
        var (certificate, key, ca) = Write(node, "node1");
        var values = new Dictionary<string, string?> { ["Cluster:Tls:CertificateFile"] = certificate, ["Cluster:Tls:KeyFile"] = key, ["Cluster:Tls:CaFile"] = ca };
        Assert.Equal("CN=node1", ClusterSettings.From(Configuration(values)).Tls!.Certificate.Subject);

        values["Cluster:Tls:CaFile"] = Path.Combine(_directory, "missing.crt");
        var error = Assert.Throws<InvalidOperationException>(() => ClusterSettings.From(Configuration(values)));
        Assert.Contains("Cluster:Tls:CaFile", error.Message, StringComparison.Ordinal);
    }

    private (List<string> Problems, SiloTls? Tls) Load((string Certificate, string Key, string Ca) files)
    {
        var problems = new List<string>();
        var tls = SiloTls.From(Configuration(new()
        {
            ["Cluster:Tls:CertificateFile"] = files.Certificate,
            ["Cluster:Tls:KeyFile"] = files.Key,
            ["Cluster:Tls:CaFile"] = files.Ca,
        }), problems);
        return (problems, tls);
    }

    private (string Certificate, string Key, string Ca) Write(X509Certificate2 certificate, string name)
    {
        var (certificatePath, keyPath, caPath) = (Path.Combine(_directory, name + ".crt"), Path.Combine(_directory, name + ".key"), Path.Combine(_directory, "ca.crt"));
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(caPath, _ca.ExportCertificatePem());
        return (certificatePath, keyPath, caPath);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static X509Certificate2 Ca(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Leaf(string name, X509Certificate2? issuer, string[]? usages = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [.. (usages ?? ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]).Select(oid => new Oid(oid))], false));
        var (from, until) = (DateTimeOffset.UtcNow.AddHours(-2), notAfter ?? DateTimeOffset.UtcNow.AddHours(12));
        if (issuer is null)
        {
            return request.CreateSelfSigned(from, until);
        }

        using var signed = request.Create(issuer, from, until, RandomNumberGenerator.GetBytes(12));
        return signed.CopyWithPrivateKey(key);
    }
}
