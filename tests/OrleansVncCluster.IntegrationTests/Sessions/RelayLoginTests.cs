using System.Buffers.Binary;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>The relay logs in to a real Xvnc (VncAuth, or X509Vnc with Targets:CaFile) with the password from
/// Tokens:PasswordFiles, and the browser sees security type None only (issue 13, parts 1 and 2).</summary>
public sealed class RelayLoginTests
{
    private const string Password = "Pw7xQz9k";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task KnownPassword_BrowserGetsSecurityNoneAndServerInit_AndThePasswordIsNowhere()
    {
        await using var vnc = await XvncServer.StartAsync(password: Password, width: 320, height: 200);
        var (node, token) = await StartNodeAsync(vnc.Port, Password);
        await using (node)
        {
            await using var client = await OpenAsync(node, token);
            await BrowserSeesNoneAndTheDesktopAsync(client, 320, 200);

            using var admin = node.AdminClient();
            var sessions = await admin.GetStringAsync("/api/sessions");
            Assert.Contains(token[..4], sessions, StringComparison.Ordinal);
            Assert.DoesNotContain(Password, sessions, StringComparison.Ordinal);
            Assert.DoesNotContain(Password, await admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Password, node.Process.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_ClosesWith4502AndTheServersReason()
    {
        await using var vnc = await XvncServer.StartAsync(password: Password, width: 320, height: 200);
        var (node, token) = await StartNodeAsync(vnc.Port, "Wrong123");
        await using (node)
        {
            await using var client = await OpenAsync(node, token);
            var (status, reason) = await client.ReadUntilCloseAsync(Patience);
            Assert.Equal((WebSocketCloseStatus)4502, status);
            Assert.Contains("refused the password", reason, StringComparison.Ordinal);
            Assert.DoesNotContain("Wrong123", node.Process.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CaFile_X509VncServer_SessionRunsInsideTls_AndDraws()
    {
        var directory = Repo.TempDirectory("login-tls");
        using var ca = TestCertificates.CreateCa("relay-private-ca");
        var caFile = TestCertificates.WriteCaPem(ca, directory);
        await using var vnc = await XvncServer.StartAsync(Password, width: 320, height: 200, securityTypes: "X509Vnc", x509: TestCertificates.WriteServerPem(ca, "vnc-target", directory));
        var (node, token) = await StartNodeAsync(vnc.Port, Password, ("Targets__CaFile", caFile), ("Targets__RequireTls", "true"));
        await using (node)
        {
            await using var client = await OpenAsync(node, token);
            await BrowserSeesNoneAndTheDesktopAsync(client, 320, 200);
        }
    }

    [Fact]
    public async Task RequireTls_PlainServer_ClosesWith4502AndSaysTlsIsMissing()
    {
        await using var vnc = await XvncServer.StartAsync(password: Password, width: 320, height: 200);
        var (node, token) = await StartNodeAsync(vnc.Port, Password, ("Targets__RequireTls", "true"));
        await using (node)
        {
            await using var client = await OpenAsync(node, token);
            var (status, reason) = await client.ReadUntilCloseAsync(Patience);
            Assert.Equal((WebSocketCloseStatus)4502, status);
            Assert.Contains("TLS", reason, StringComparison.Ordinal);
        }
    }

    /// <summary>noVNC's side of RFB 3.8 as the relay presents it: one security type, None; then ServerInit, and an update
    /// request answered with a FramebufferUpdate, so the session relays after the login.</summary>
    internal static async Task BrowserSeesNoneAndTheDesktopAsync(ConsoleClient client, int width, int height)
    {
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await client.ReadExactlyAsync(12, Patience)));
        await client.SendAsync("RFB 003.008\n"u8.ToArray());
        Assert.Equal(new byte[] { 1, 1 }, await client.ReadExactlyAsync(2, Patience)); // one type: None
        await client.SendAsync(new byte[] { 1 });
        Assert.Equal(new byte[4], await client.ReadExactlyAsync(4, Patience)); // SecurityResult OK
        await client.SendAsync(new byte[] { 1 }); // ClientInit: shared
        var init = await client.ReadExactlyAsync(24, Patience);
        Assert.Equal(width, BinaryPrimitives.ReadUInt16BigEndian(init));
        Assert.Equal(height, BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2)));
        await client.ReadExactlyAsync((int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)), Patience);
        await client.SendAsync(new byte[] { 3, 0, 0, 0, 0, 0, (byte)(width >> 8), (byte)width, (byte)(height >> 8), (byte)height });
        Assert.Equal(0, (await client.ReadExactlyAsync(1, Patience))[0]);
    }

    private static async Task<(RelayNodeProcess Node, string Token)> StartNodeAsync(int port, string password, params (string Key, string Value)[] settings)
    {
        var directory = Repo.TempDirectory("login");
        var token = "login-" + Guid.NewGuid().ToString("N")[..12];
        var passwords = Path.Combine(directory, "vnc-passwords");
        await File.WriteAllTextAsync(passwords, $"# VNC passwords\n{token}: {password}\n");
        var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (token, $"127.0.0.1:{port}")),
            SiloName = "login",
            Environment = new Dictionary<string, string?>(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            {
                ["Tokens__PasswordFiles__0"] = passwords,
            },
        });
        return (node, token);
    }

    /// <summary>Opens the console once the token file is loaded (a 4404 close before that is retried).</summary>
    internal static async Task<ConsoleClient> OpenAsync(RelayNodeProcess node, string token)
    {
        await Eventually.HoldsAsync(async () =>
        {
            var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), ["binary"]);
            var first = await client.Socket.ReceiveAsync(new byte[1], CancellationToken.None);
            if (first.MessageType == WebSocketMessageType.Close && client.Socket.CloseStatus == (WebSocketCloseStatus)4404)
            {
                await client.DisposeAsync();
                return false;
            }

            await client.DisposeAsync();
            return true;
        }, TimeSpan.FromSeconds(20), "the token file with its password is loaded");
        return await ConsoleClient.ConnectAsync(node.WebSocketUri(token), ["binary"]);
    }
}
