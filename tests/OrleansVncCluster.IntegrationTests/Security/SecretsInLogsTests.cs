using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Sync;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>
/// A full run with every kind of secret configured, its whole output captured: no secret and no whole console token
/// may appear, while their redacted forms do (so the test knows it read the node's real logs).
/// </summary>
public sealed class SecretsInLogsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FullRun_LogsNoSecretAndNoWholeToken_ButTheirRedactedForms()
    {
        var redisPassword = "redis-" + Secret();
        var ticketSecret = "ticket-" + Secret();
        var wrongAdminToken = "wrong-admin-" + Secret();
        await using var redis = await RedisServer.StartWithConfigAsync([$"requirepass {redisPassword}"]);
        await using var revokedVm = TcpTarget.Echo();
        await using var keptVm = TcpTarget.Echo();
        await using var simulator = await SimulatorProcess.StartAsync(revokedVm.Port, keptVm.Port);
        var abiquoPassword = (await File.ReadAllTextAsync(simulator.PasswordFile)).Trim();

        // systemd's LoadCredential= layout: one file per secret in $CREDENTIALS_DIRECTORY.
        var credentials = Repo.TempDirectory("credentials");
        await File.WriteAllTextAsync(Path.Combine(credentials, "redis-connection"), $"127.0.0.1:{redis.Port},password={redisPassword}");
        await File.WriteAllTextAsync(Path.Combine(credentials, "ticket-secret"), ticketSecret);
        await File.WriteAllTextAsync(Path.Combine(credentials, "abiquo-password"), abiquoPassword);
        var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            SiloName = "secrets",
            Environment =
            {
                ["CREDENTIALS_DIRECTORY"] = credentials,
                ["Abiquo__ApiUrl"] = simulator.ApiUrl,
                ["Abiquo__User"] = SimulatorProcess.User,
                ["Sync__Interval"] = "00:00:01",
                ["Sync__KeeperInterval"] = "00:00:01",
            },
        });
        var revokedToken = Md5($"127.0.0.1:{revokedVm.Port}");
        var keptToken = Md5($"127.0.0.1:{keptVm.Port}");
        var unknownToken = Md5("127.0.0.1:1");
        try
        {
            // Opened, then revoked by Abiquo; another opened and closed by the admin API; one refused.
            await using var revoked = await ConsoleClient.OpenEchoingAsync(node, revokedToken);
            await using var kept = await ConsoleClient.OpenEchoingAsync(node, keptToken);
            await using (var refused = await ConsoleClient.ConnectAsync(node.WebSocketUri(unknownToken)))
            {
                Assert.Equal((WebSocketCloseStatus)4404, (await refused.ReadUntilCloseAsync(Timeout)).Status);
            }

            await simulator.RemoveVmAtAsync(revokedVm.Port);
            Assert.Equal((WebSocketCloseStatus)4410, (await revoked.ReadUntilCloseAsync(Timeout)).Status);

            using var admin = node.AdminClient();
            using var intruder = new HttpClient();
            intruder.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", wrongAdminToken);
            Assert.Equal(HttpStatusCode.Unauthorized, (await intruder.GetAsync(node.AdminUri("/api/sessions"))).StatusCode);
            var list = await admin.GetFromJsonAsync<JsonElement>("/api/sessions");
            var id = list.GetProperty("sessions").EnumerateArray()
                .Single(session => keptToken.StartsWith(session.GetProperty("tokenPrefix").GetString()!.TrimEnd('…'), StringComparison.Ordinal))
                .GetProperty("id").GetString();
            using (var closed = await admin.DeleteAsync($"/api/sessions/{id}"))
            {
                Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
            }

            await kept.ReadUntilCloseAsync(Timeout);
            using (var sync = await admin.GetAsync("/api/sync"))
            {
                Assert.Equal(HttpStatusCode.OK, sync.StatusCode);
            }
        }
        finally
        {
            // Stopped first, so everything it would print (shutdown included) is in the captured output.
            await node.DisposeAsync();
        }

        var output = node.Process.Output;
        var secrets = new Dictionary<string, string>
        {
            ["Redis password"] = redisPassword,
            ["Tickets:Secret"] = ticketSecret,
            ["Abiquo password"] = abiquoPassword,
            ["admin token"] = RelayNodeProcess.AdminToken,
            ["wrong admin token"] = wrongAdminToken,
            ["revoked VM token"] = revokedToken,
            ["kept VM token"] = keptToken,
            ["unknown token"] = unknownToken,
        };
        foreach (var (name, secret) in secrets)
        {
            Assert.False(output.Contains(secret, StringComparison.Ordinal), $"the node's output contains the {name}; see {node.Process.LogPath}");
        }

        // The redacted forms: proof that the sessions, the refusal, Redis and the revocation were logged at all.
        Assert.Contains($"127.0.0.1:{redis.Port} in plain text, with a password", output, StringComparison.Ordinal);
        foreach (var token in new[] { revokedToken, keptToken, unknownToken })
        {
            Assert.Contains($"token {token[..8]}…", output, StringComparison.Ordinal);
        }

        Assert.Contains("4404 unknown console token", output, StringComparison.Ordinal);
        Assert.Contains("console revoked", output, StringComparison.Ordinal);
    }

    private static string Secret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    private static string Md5(string address) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(address)));
}
