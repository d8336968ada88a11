using System.Buffers.Binary;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.Relay.Rfb;

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

    [Fact]
    public async Task ClipboardNone_TigerVncsAnswerToNoVncsEncodings_IsWalkedByTheRelay_AndReachesTheBrowserWhole()
    {
        await using var vnc = await XvncServer.StartAsync(password: Password, width: 320, height: 200);
        var (node, token) = await StartNodeAsync(vnc.Port, Password, ("Vnc__Clipboard", "none"));
        await using (node)
        {
            await using var client = await OpenAsync(node, token);
            await BrowserSeesNoneAsync(client, 320, 200);

            // noVNC 1.7's first messages (docs/RFB.md): its pixel format (32 bpp), its encodings (Tight first), a full update.
            byte[] pixelFormat = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0];
            int[] encodings = [1, 7, -260, 16, 21, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312, -313, -307,
                unchecked((int)0xC0A1E5CE), -316, 0x574D5664, -239];
            var setEncodings = new byte[4 + (4 * encodings.Length)];
            setEncodings[0] = 2;
            BinaryPrimitives.WriteUInt16BigEndian(setEncodings.AsSpan(2), (ushort)encodings.Length);
            for (var i = 0; i < encodings.Length; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(setEncodings.AsSpan(4 + (4 * i)), encodings[i]);
            }

            await client.SendAsync((byte[])[.. pixelFormat, .. setEncodings, 3, 0, 0, 0, 0, 0, 1, 64, 0, 200]);

            // The browser walks what it receives with the relay's own reader: every message whole, one update at least
            // (TigerVNC first sends a fence, EndOfContinuousUpdates and its clipboard capabilities).
            var reader = new RfbServerMessageReader(new Everything(), 32);
            var buffer = new byte[RfbServerMessageReader.Headroom + 4096];
            using var deadline = new CancellationTokenSource(Patience);
            while (reader.Forwarded(RfbServerMessageKind.FramebufferUpdate) == 0 || !reader.AtMessageBoundary)
            {
                var chunk = await client.Socket.ReceiveAsync(buffer.AsMemory(RfbServerMessageReader.Headroom), deadline.Token);
                Assert.True(chunk.MessageType == WebSocketMessageType.Binary, $"the session closed: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");
                var result = reader.Filter(buffer, chunk.Count);
                Assert.False(result.Failed, result.Error);
            }

            Assert.True(reader.Rectangles >= 1);
        }

        Assert.DoesNotContain("cannot walk", node.Process.Output, StringComparison.Ordinal);
    }

    /// <summary>noVNC's side of RFB 3.8 as the relay presents it: one security type, None; then ServerInit, and an update
    /// request answered with a FramebufferUpdate, so the session relays after the login.</summary>
    internal static async Task BrowserSeesNoneAndTheDesktopAsync(ConsoleClient client, int width, int height)
    {
        await BrowserSeesNoneAsync(client, width, height);
        await client.SendAsync(new byte[] { 3, 0, 0, 0, 0, 0, (byte)(width >> 8), (byte)width, (byte)(height >> 8), (byte)height });
        Assert.Equal(0, (await client.ReadExactlyAsync(1, Patience))[0]);
    }

    /// <summary>noVNC's side of RFB 3.8 as the relay presents it: one security type, None; then ServerInit.</summary>
    private static async Task BrowserSeesNoneAsync(ConsoleClient client, int width, int height)
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

    /// <summary>Forwards every server message.</summary>
    private sealed class Everything : IRfbServerMessagePolicy
    {
        public RfbMessageVerdict Decide(in RfbServerMessage message) => RfbMessageVerdict.Forward;
    }
}
