using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansVncCluster.AbiquoSimulator;
using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The simulator over HTTPS with a certificate of its own CA.</summary>
public sealed class AbiquoTlsFixture : IAsyncLifetime
{
    public SimulatorHost Host { get; private set; } = null!;

    public string CaFile { get; } = Path.Combine(Path.GetTempPath(), $"abiquo-ca-{Guid.NewGuid():N}.pem");

    public async ValueTask InitializeAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=abiquo-simulator", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(CaFile, selfSigned.ExportCertificatePem());
        var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), null);
        Host = await SimulatorHost.StartAsync(new SimulatorSettings
        {
            Password = SimulatorFixture.Password,
            World = new() { Seed = 1, Vms = 5, Enterprises = 1 },
            Urls = ["https://127.0.0.1:0"],
            ServerCertificate = certificate,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        File.Delete(CaFile);
    }
}

/// <summary>TLS: verified by default, against a custom CA on request, skipped only when asked explicitly.</summary>
public sealed class AbiquoTlsTests(AbiquoTlsFixture fixture) : IClassFixture<AbiquoTlsFixture>
{
    private AbiquoOptions Options() =>
        new() { ApiUrl = fixture.Host.ApiUrl, User = "admin", Password = SimulatorFixture.Password, Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task UntrustedCertificate_IsRefusedByDefault()
    {
        var error = await Assert.ThrowsAsync<AbiquoException>(() =>
            SimulatorFixture.CreateClient(Options()).GetVirtualMachinesAsync(TestContext.Current.CancellationToken));

        Assert.Equal(AbiquoFailure.Network, error.Failure);
    }

    [Fact]
    public async Task CertificateOfTheConfiguredCa_IsTrusted()
    {
        var options = Options();
        options.CaFile = fixture.CaFile;

        var inventory = await SimulatorFixture.CreateClient(options).GetVirtualMachinesAsync(TestContext.Current.CancellationToken);

        Assert.Equal(5, inventory.VirtualMachines.Count);
    }

    [Fact]
    public async Task SkippingVerification_IsAnExplicitChoice()
    {
        var options = Options();
        options.InsecureSkipTlsVerify = true;

        var inventory = await SimulatorFixture.CreateClient(options).GetVirtualMachinesAsync(TestContext.Current.CancellationToken);

        Assert.Equal(5, inventory.VirtualMachines.Count);
    }
}
