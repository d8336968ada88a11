using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Deploy;

/// <summary>`haproxy -c` on haproxy/haproxy.cfg in every mode it is shipped for, and its refusal without a stats password.</summary>
[Collection(MachineWide.Name)]
public sealed class HaproxyConfigCheckTests
{
    private const string StatsPasswordAlert = "HAPROXY_STATS_PASSWORD is unset or empty";

    /// <summary>What the k8s/haproxy.yaml Deployment gives the container (the kubelet adds KUBERNETES_SERVICE_HOST).</summary>
    private static Dictionary<string, string?> KubernetesEnvironment(string? password) => new()
    {
        ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1",
        ["POD_NAMESPACE"] = "vnc",
        ["HAPROXY_HTTP_BIND"] = ":8080",
        ["HAPROXY_LEGACY_BIND"] = ":41338,:41337",
        ["HAPROXY_ADMIN_BIND"] = ":8404",
        ["HAPROXY_RUNTIME_SOCKET"] = "/tmp/haproxy-admin.sock",
        ["HAPROXY_STATS_PASSWORD"] = password,
    };

    /// <summary>What deploy/env/haproxy.env.example gives Debian's unit.</summary>
    private static Dictionary<string, string?> HostEnvironment(string? password) => new()
    {
        ["RELAY1_ADDR"] = "192.0.2.21:6080",
        ["RELAY2_ADDR"] = "192.0.2.22:6080",
        ["RELAY3_ADDR"] = "192.0.2.23:6080",
        ["HAPROXY_STATS_PASSWORD"] = password,
    };

    [Fact]
    public async Task HostMode_WithStatsPassword_IsValidWithoutWarnings()
    {
        var result = await DeployCommands.CheckHaproxyConfigAsync(HostEnvironment("s3cret"));

        AssertValid(result);
    }

    [Fact]
    public async Task HostMode_WithDefaultsOnly_IsValid()
    {
        var result = await DeployCommands.CheckHaproxyConfigAsync(new Dictionary<string, string?> { ["HAPROXY_STATS_PASSWORD"] = "s3cret" });

        AssertValid(result);
    }

    [Fact]
    public async Task KubernetesMode_WithStatsPassword_IsValidWithoutWarnings()
    {
        var result = await DeployCommands.CheckHaproxyConfigAsync(KubernetesEnvironment("s3cret"));

        AssertValid(result);
    }

    [Fact]
    public async Task TlsTermination_WithACertificate_IsValid()
    {
        var directory = Repo.TempDirectory("tls");
        try
        {
            var pem = Path.Combine(directory, "relay.pem");
            await File.WriteAllTextAsync(pem, SelfSignedPem());
            var environment = HostEnvironment("s3cret");
            environment["HAPROXY_TLS_CERT"] = pem;
            environment["HAPROXY_TLS_BIND"] = "127.0.0.1:8443";

            var result = await DeployCommands.CheckHaproxyConfigAsync(environment);

            AssertValid(result);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task StatsPassword_WithCommasParenthesesAndQuotes_IsAccepted()
    {
        var result = await DeployCommands.CheckHaproxyConfigAsync(HostEnvironment("a,b)c\"d e$f"));

        AssertValid(result);
    }

    [Fact]
    public async Task ExamplePlaceholderStatsPassword_FailsTheCheck()
    {
        var result = await DeployCommands.CheckHaproxyConfigAsync(HostEnvironment("REPLACE-ME-with-a-generated-password"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("still the placeholder of k8s/secrets.example.yaml", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(false, "")]
    [InlineData(true, null)]
    [InlineData(true, "")]
    public async Task MissingOrEmptyStatsPassword_FailsTheCheckWithTheAlert(bool kubernetes, string? password)
    {
        var environment = kubernetes ? KubernetesEnvironment(password) : HostEnvironment(password);

        var result = await DeployCommands.CheckHaproxyConfigAsync(environment);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("[ALERT]", result.Output, StringComparison.Ordinal);
        Assert.Contains(StatsPasswordAlert, result.Output, StringComparison.Ordinal);
    }

    private static void AssertValid(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, $"haproxy -c exited with {result.ExitCode}:\n{result.Output}");
        Assert.Contains("Configuration file is valid", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[WARNING]", result.Output, StringComparison.Ordinal);
    }

    private static string SelfSignedPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }
}
