using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>Nodes reach a Redis that wants a password, and one that speaks only TLS with a private CA.</summary>
public sealed class RedisSecurityTests
{
    private const string Token = "redis-auth-token-01";

    [Fact]
    public async Task PasswordProtectedRedis_NodeJoins_AndSessionsWork()
    {
        var password = "redis-pw-" + Guid.NewGuid().ToString("N");
        await using var redis = await RedisServer.StartWithConfigAsync([$"requirepass {password}"]);
        await using var echo = TcpTarget.Echo();
        var directory = Repo.TempDirectory("redis-auth");
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (Token, $"127.0.0.1:{echo.Port}")),
            SiloName = "redis-auth",
            Environment = { ["Redis__ConnectionStringFile"] = ConnectionStringFile(directory, $"127.0.0.1:{redis.Port},password={password}") },
        });
        await using var session = await ConsoleClient.OpenEchoingAsync(node, Token);

        Assert.Contains($"127.0.0.1:{redis.Port} in plain text, with a password", node.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(password, node.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongRedisPassword_FailsStartup_WithClearMessage_AndNoPassword()
    {
        var password = "redis-pw-" + Guid.NewGuid().ToString("N");
        var wrong = "wrong-pw-" + Guid.NewGuid().ToString("N");
        await using var redis = await RedisServer.StartWithConfigAsync([$"requirepass {password}"]);
        var directory = Repo.TempDirectory("redis-auth");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "redis-wrong",
            Environment = { ["Redis__ConnectionStringFile"] = ConnectionStringFile(directory, $"127.0.0.1:{redis.Port},password={wrong}") },
        }));

        Assert.Contains("refused the node's credentials", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(password, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsRedisWithPrivateCa_NodeJoinsWithClientCertificate_AndSessionsWork()
    {
        var directory = Repo.TempDirectory("redis-tls");
        using var ca = TestCertificates.CreateCa("redis-test-ca");
        using var server = TestCertificates.CreateLeaf("redis-server", ca);
        using var client = TestCertificates.CreateLeaf("vnc-relay", ca, client: true);
        var caFile = Path.Combine(directory, "ca.crt");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        var (serverCertificate, serverKey) = TestCertificates.WritePem(server, directory, "redis");
        var (clientCertificate, clientKey) = TestCertificates.WritePem(client, directory, "client");
        var password = "redis-pw-" + Guid.NewGuid().ToString("N");
        await using var redis = await RedisServer.StartWithConfigAsync(
        [
            $"requirepass {password}", $"tls-cert-file {serverCertificate}", $"tls-key-file {serverKey}", $"tls-ca-cert-file {caFile}",
            "tls-auth-clients yes",
        ], tls: true);
        await using var echo = TcpTarget.Echo();

        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (Token, $"127.0.0.1:{echo.Port}")),
            SiloName = "redis-tls",
            Environment =
            {
                ["Redis__ConnectionStringFile"] = ConnectionStringFile(directory, $"127.0.0.1:{redis.Port},password={password},ssl=true"),
                ["Redis__CaFile"] = caFile,
                ["Redis__ClientCertificateFile"] = clientCertificate,
                ["Redis__ClientKeyFile"] = clientKey,
            },
        });
        await using var session = await ConsoleClient.OpenEchoingAsync(node, Token);

        Assert.Contains($"127.0.0.1:{redis.Port} over TLS, with a password", node.Process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(password, node.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsRedisWithUntrustedCertificate_FailsStartup_WithClearMessage()
    {
        var directory = Repo.TempDirectory("redis-tls");
        using var ca = TestCertificates.CreateCa("redis-test-ca");
        using var server = TestCertificates.CreateLeaf("redis-server", ca);
        var caFile = Path.Combine(directory, "ca.crt");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        var (serverCertificate, serverKey) = TestCertificates.WritePem(server, directory, "redis");
        await using var redis = await RedisServer.StartWithConfigAsync(
            [$"tls-cert-file {serverCertificate}", $"tls-key-file {serverKey}", $"tls-ca-cert-file {caFile}", "tls-auth-clients no"], tls: true);

        // ssl=true but no Redis:CaFile: the test CA is not trusted by the machine.
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "redis-untrusted",
            Environment = { ["Redis__ConnectionStringFile"] = ConnectionStringFile(directory, $"127.0.0.1:{redis.Port},ssl=true") },
        }));

        Assert.Contains("TLS verification failed", failure.Message, StringComparison.Ordinal);
    }

    private static string ConnectionStringFile(string directory, string connectionString)
    {
        var path = Path.Combine(directory, "redis-connection");
        File.WriteAllText(path, connectionString);
        return path;
    }
}
