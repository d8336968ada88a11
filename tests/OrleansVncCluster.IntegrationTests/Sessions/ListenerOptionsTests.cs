using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>Listener options given the websockify way: TLS from PEM files, and the per-session idle timeout.</summary>
public sealed class ListenerOptionsTests
{
    [Fact]
    public async Task CertAndKeyOptions_ServeTheConsoleOverTls()
    {
        var directory = Repo.TempDirectory("tls");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certFile = Path.Combine(directory, "cert.pem");
        var keyFile = Path.Combine(directory, "key.pem");
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        await using var echo = TcpTarget.Echo();
        var token = "tls-" + Guid.NewGuid().ToString("N")[..12];
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (token, $"127.0.0.1:{echo.Port}")),
            SiloName = "tls",
            ExtraArgs = [$"--cert={certFile}", $"--key={keyFile}"],
        });

        string? seenThumbprint = null;
        await Eventually.HoldsAsync(async () =>
        {
            using var socket = new ClientWebSocket();
            socket.Options.RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                seenThumbprint = cert is null ? null : new X509Certificate2(cert).Thumbprint;
                return true;
            };
            await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{node.Port}/websockify?token={token}"), CancellationToken.None);
            await socket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
            var buffer = new byte[16];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            return result.MessageType == WebSocketMessageType.Binary && buffer.AsSpan(0, result.Count).SequenceEqual("ping"u8);
        }, TimeSpan.FromSeconds(30), "a wss:// session echoes through the TLS listener");

        Assert.Equal(certificate.Thumbprint, seenThumbprint);
    }

    [Fact]
    public async Task AgentPortTaken_NodeStopsWithExitCode1_AndSaysWhatToFix()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayNodeProcess.StartAsync(
            new RelayNodeSettings { SiloName = "agent-port-taken" }, agentPort: taken));

        Assert.Contains("exited with 1", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"The HAProxy agent cannot listen on 127.0.0.1:{taken}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("set Relay:AgentListen", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdleTimeout_ClosesAQuietSessionWith4408()
    {
        await using var echo = TcpTarget.Echo();
        var token = "idle-" + Guid.NewGuid().ToString("N")[..12];
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(Repo.TempDirectory("idle"), (token, $"127.0.0.1:{echo.Port}")),
            SiloName = "idle",
            Environment = { ["Relay__IdleTimeout"] = "00:00:01" },
        });

        await using var client = await ConsoleClient.OpenEchoingAsync(node, token);
        var (status, reason) = await client.ReadUntilCloseAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((WebSocketCloseStatus)4408, status);
        Assert.Contains("idle", reason, StringComparison.Ordinal);
    }
}
