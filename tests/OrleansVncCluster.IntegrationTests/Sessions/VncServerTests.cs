using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>Through a node to a real TigerVNC server with VNC password authentication.</summary>
public sealed class VncServerTests
{
    [Fact]
    public async Task RealXvncWithPassword_CompletesRfbHandshakeAndSendsAFramebufferUpdate()
    {
        await using var vnc = await XvncServer.StartAsync(password: "secret12", width: 320, height: 200);
        var directory = Repo.TempDirectory("vnc");
        var token = "vnc-" + Guid.NewGuid().ToString("N")[..12];
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (token, $"127.0.0.1:{vnc.Port}")),
            SiloName = "vnc",
        });

        RfbClient? rfb = null;
        await Eventually.HoldsAsync(async () =>
        {
            var client = await ConsoleClient.ConnectAsync(node.WebSocketUri(token), ["binary"]);
            rfb = new RfbClient(client);
            try
            {
                await rfb.HandshakeAsync("secret12");
                return true;
            }
            catch (InvalidOperationException) when (client.Socket.CloseStatus == (System.Net.WebSockets.WebSocketCloseStatus)4404)
            {
                await client.DisposeAsync();
                return false; // the token file is not loaded yet
            }
        }, TimeSpan.FromSeconds(20), "the RFB handshake succeeds through the relay");

        var (messageType, rectangles) = await rfb!.RequestUpdateAsync();
        Assert.Equal(320, rfb.Width);
        Assert.Equal(200, rfb.Height);
        Assert.Equal(0, messageType); // FramebufferUpdate
        Assert.True(rectangles > 0, "the update carries at least one rectangle");
    }
}
