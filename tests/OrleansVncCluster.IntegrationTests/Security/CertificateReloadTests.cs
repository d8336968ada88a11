using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>The node's TLS certificate is replaced on disk while a wss session runs.</summary>
public sealed class CertificateReloadTests
{
    private const string Token = "tls-echo-token-01";

    [Fact]
    public async Task ReplacedCertificate_ServesNewHandshakes_WhileLiveSessionKeepsRelaying()
    {
        var directory = Repo.TempDirectory("tls");
        using var first = TestCertificates.CreateLeaf("relay-first");
        using var second = TestCertificates.CreateLeaf("relay-second");
        var (certificateFile, keyFile) = TestCertificates.WritePem(first, directory, "relay");
        await using var echo = TcpTarget.Echo();
        var tokenFile = TokenFiles.Write(directory, (Token, $"127.0.0.1:{echo.Port}"));
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = tokenFile,
            SiloName = "tls-reload",
            Environment =
            {
                ["Relay__CertificateFile"] = certificateFile,
                ["Relay__KeyFile"] = keyFile,
                ["Relay__CertificateCheckInterval"] = "00:00:05",
            },
        });
        Assert.Equal(first.Thumbprint, await TestCertificates.PresentedThumbprintAsync(node.Port));

        await using var live = await OpenWssEchoAsync(node);

        // A half-written certificate file is refused: the node keeps presenting the first certificate.
        var pem = second.ExportCertificatePem();
        await File.WriteAllTextAsync(certificateFile, pem[..(pem.Length / 2)]);
        await node.Process.WaitForOutputAsync("does not load", TimeSpan.FromSeconds(20));
        Assert.Equal(first.Thumbprint, await TestCertificates.PresentedThumbprintAsync(node.Port));

        // The complete pair, each file renamed into place as renewal tools do.
        var staged = Repo.TempDirectory("tls-staged");
        var (newCertificate, newKey) = TestCertificates.WritePem(second, staged, "relay");
        File.Move(newKey, keyFile, overwrite: true);
        File.Move(newCertificate, certificateFile, overwrite: true);

        await Eventually.HoldsAsync(async () => await TestCertificates.PresentedThumbprintAsync(node.Port) == second.Thumbprint,
            TimeSpan.FromSeconds(20), "a new TLS handshake presents the second certificate");
        await node.Process.WaitForOutputAsync("TLS certificate reloaded", TimeSpan.FromSeconds(10));

        var probe = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096);
        await live.SendAsync(probe);
        Assert.Equal(probe, await live.ReadExactlyAsync(probe.Length, TimeSpan.FromSeconds(10)));

        // And a new wss session works with the new certificate.
        await using var fresh = await OpenWssEchoAsync(node);
    }

    private static Task<ConsoleClient> OpenWssEchoAsync(RelayNodeProcess node) =>
        ConsoleClient.OpenEchoingAsync(new Uri($"wss://127.0.0.1:{node.Port}/websockify?token={Token}"), "a wss session relays bytes through the echo target",
            configure: options => options.RemoteCertificateValidationCallback = (_, _, _, _) => true);
}
