using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Hosting;

namespace OrleansVncCluster.Tests.Transport;

/// <summary>The certificate holder, the connection caps and where secrets may come from.</summary>
public sealed class TransportTests
{
    /// <summary>The extended key usage of a TLS server (RFC 5280 section 4.2.1.12, id-kp-serverAuth).</summary>
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    [Fact]
    public void CertificateReloader_KeepsTheCurrentCertificate_WhenTheNewKeyDoesNotMatch_ThenTakesTheCompletePair()
    {
        var directory = Directory.CreateTempSubdirectory("ovc-cert-").FullName;
        using var first = SelfSigned("first");
        using var second = SelfSigned("second");
        var (certificateFile, keyFile) = (Path.Combine(directory, "c.pem"), Path.Combine(directory, "k.pem"));
        Write(first, certificateFile, keyFile);
        using var reloader = new CertificateReloader(certificateFile, keyFile, TimeSpan.FromHours(1), NullLogger.Instance);
        Assert.Equal(first.Thumbprint, reloader.Current.Thumbprint);

        File.WriteAllText(certificateFile, second.ExportCertificatePem()); // the key is still the first one's
        reloader.Reload();
        Assert.Equal(first.Thumbprint, reloader.Current.Thumbprint);

        File.WriteAllText(keyFile, second.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        reloader.Reload();
        Assert.Equal(second.Thumbprint, reloader.Current.Thumbprint);
    }

    [Fact]
    public void CertificateReloader_HandsOutACertificate_WhoseServerUsageEveryConcurrentHandshakeSees()
    {
        // Kestrel checks the certificate's extended key usage at every handshake. Handshakes that raced on a certificate
        // just loaded could read .NET's lazily decoded usages half filled and refuse it (a node's first TLS sessions).
        var directory = Directory.CreateTempSubdirectory("ovc-cert-").FullName;
        using var server = SelfSigned("server", new Oid(ServerAuthentication));
        var (certificateFile, keyFile) = (Path.Combine(directory, "c.pem"), Path.Combine(directory, "k.pem"));
        Write(server, certificateFile, keyFile);
        const int handshakes = 8;
        var refused = 0;
        for (var load = 0; load < 200; load++)
        {
            using var reloader = new CertificateReloader(certificateFile, keyFile, TimeSpan.FromHours(1), NullLogger.Instance);
            var current = reloader.Current;
            using var together = new Barrier(handshakes);
            Parallel.For(0, handshakes, new ParallelOptions { MaxDegreeOfParallelism = handshakes }, _ =>
            {
                together.SignalAndWait();
                if (!AllowedForServerAuthentication(current))
                {
                    Interlocked.Increment(ref refused);
                }
            });
        }

        Assert.Equal(0, refused);
    }

    [Fact]
    public void SentinelConnectionString_KeepsItsServiceName_AndTheLogNamesTheSentinelsButNoPassword()
    {
        var configuration = new RedisTransport().Apply("127.0.0.1:26379,127.0.0.1:26380,serviceName=mymaster,password=sentinel-secret");

        Assert.Equal("mymaster", configuration.ServiceName);
        Assert.Equal(2, configuration.EndPoints.Count);
        var described = RedisTransport.Describe(configuration);
        Assert.Contains("(Sentinel service mymaster)", described, StringComparison.Ordinal);
        Assert.DoesNotContain("sentinel-secret", described, StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateReloader_RefusesToStart_WithoutALoadablePair()
    {
        var directory = Directory.CreateTempSubdirectory("ovc-cert-").FullName;
        var file = Path.Combine(directory, "c.pem");
        File.WriteAllText(file, "-----BEGIN CERTIFICATE-----\nnot base64\n");
        var error = Assert.Throws<InvalidOperationException>(() => new CertificateReloader(file, null, TimeSpan.FromHours(1), NullLogger.Instance));
        Assert.Contains("does not load", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("            1024                 4096                 files", 1024L)]
    [InlineData("            unlimited            unlimited            files", null)]
    public void OpenFileLimit_IsTheSoftColumn(string columns, long? expected) => Assert.Equal(expected, ConnectionCaps.ParseSoftLimit(columns));

    [Theory]
    [InlineData(1024L)]
    [InlineData(4096L)]
    [InlineData(20000L)]
    [InlineData(65536L)]
    [InlineData(262144L)]
    [InlineData(1048576L)]
    public void ConnectionCaps_PlainPlusTwicePerSession_StayWithinTheLimitLessTheReserve(long openFiles)
    {
        var plan = ConnectionCaps.Derive(openFiles);

        // Kestrel moves a connection from the plain count to the upgraded one when it becomes a WebSocket, and each
        // upgraded one also holds the VNC server's socket: both caps at (limit - reserve) / 2, as before, overshoot.
        Assert.True(plan.MaxConnections + (2 * plan.MaxUpgraded) <= openFiles - ConnectionCaps.Reserved,
            $"{plan.MaxConnections} + 2 x {plan.MaxUpgraded} exceeds {openFiles} - {ConnectionCaps.Reserved}");
        Assert.True(plan.DerivedMaxSessions < plan.MaxUpgraded, "refusals with 4429 need upgraded slots of their own");
        Assert.True(plan.DerivedMaxSessions > (openFiles - ConnectionCaps.Reserved) * 2 / 5, "most of the budget goes to sessions");
    }

    [Fact]
    public void ConnectionCaps_ForTheLimitTheIntegrationTestUses_AreTheseFigures()
    {
        // 1024 - 512 = 512: 64 plain, (512 - 64) / 2 = 224 upgraded, 224 - 14 = 210 sessions.
        Assert.Equal(new ConnectionCaps.Plan(1024, 64, 224, 210), ConnectionCaps.Derive(1024));
        Assert.Equal(new ConnectionCaps.Plan(null, null, null, null), ConnectionCaps.Derive(null));
        Assert.NotNull(ConnectionCaps.OpenFileLimit());
    }

    [Fact]
    public void DefaultMaxSessions_FillsAnUnsetCap_AndKeepsAnExplicitOne()
    {
        var plan = ConnectionCaps.Derive(1024);
        var unset = new AdmissionOptions();
        ConnectionCaps.DefaultMaxSessions(unset, new ConfigurationBuilder().Build(), plan, NullLogger.Instance);
        Assert.Equal(210, unset.MaxSessions);

        var explicitNoCap = new AdmissionOptions();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Relay:MaxSessions"] = "0" }).Build();
        ConnectionCaps.DefaultMaxSessions(explicitNoCap, configuration, plan, NullLogger.Instance);
        Assert.Equal(0, explicitNoCap.MaxSessions);
    }

    [Theory]
    [InlineData("--Admin:Token=abc")]
    [InlineData("--Abiquo:Password=abc")]
    [InlineData("--tickets:secret=abc")]
    [InlineData("--Redis:ConnectionString=redis:6379,password=abc")]
    public void SecretsOnTheCommandLine_AreRefused(string arg) => Assert.Single(SecretSources.CommandLineProblems([arg]));

    [Fact]
    public void NonSecretsOnTheCommandLine_AreFine() =>
        Assert.Empty(SecretSources.CommandLineProblems(["--Redis:ConnectionString=redis:6379", "--Admin:TokenFile=/run/credentials/admin-token", "--Relay:Listen=6080"]));

    [Fact]
    public void ExamplePlaceholders_AreRefused_WithoutQuotingTheValue()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Admin:Token"] = "REPLACE-ME-with-a-generated-token" }).Build();
        var problems = SecretSources.PlaceholderProblems(configuration, "redis-0.redis:6379,password=REPLACE-ME-now");
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.DoesNotContain("generated-token", p, StringComparison.Ordinal));
    }

    private static X509Certificate2 SelfSigned(string name, Oid? usage = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        if (usage is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        }

        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Kestrel's test of a server certificate (its <c>CertificateLoader.IsCertificateAllowedForServerAuth</c>):
    /// without the extension any certificate is allowed; with it, only one that names server authentication.</summary>
    private static bool AllowedForServerAuthentication(X509Certificate2 certificate)
    {
        var extensions = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return extensions.Count == 0
            || extensions.Exists(extension => extension.EnhancedKeyUsages.Cast<Oid>().Any(usage => usage.Value == ServerAuthentication));
    }

    private static void Write(X509Certificate2 certificate, string certificateFile, string keyFile)
    {
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }
}
