using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.IntegrationTests.Rfb;

/// <summary>The pieces composed the way the session will use them, against a real Xvnc: log in to the server, hand the
/// browser a None handshake with the server's ServerInit, then pass server bytes through and filter browser bytes.</summary>
public sealed class RfbSessionPathXvncTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task BrowserWithoutThePassword_SeesTheDesktop_ThroughTheRelaysLogin()
    {
        await using var vnc = await XvncServer.StartAsync("secret12", width: 640, height: 400);
        using var serverTcp = new TcpClient();
        await serverTcp.ConnectAsync(IPAddress.Loopback, vnc.Port);
        var login = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(serverTcp.GetStream(), new RfbTarget("127.0.0.1", Password: "secret12"));
        Assert.True(login.Succeeded, login.Reason);

        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var browserTcp = new TcpClient();
        await browserTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var relayTcp = await listener.AcceptTcpClientAsync();
        listener.Stop();
        var relayBrowserSide = relayTcp.GetStream();
        var handshake = new RfbBrowserHandshake(Patience).RunAsync(relayBrowserSide, login.ServerInit);

        var browser = browserTcp.GetStream();
        var (width, height, name) = await BrowserHandshakeAsync(browser);
        Assert.True((await handshake).Succeeded);
        Assert.Equal((640, 400), (width, height));
        Assert.Equal(login.ServerInit.Name, name);

        using var stop = new CancellationTokenSource();
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ViewOnly = true });
        var toServer = RfbFilteredCopy.CopyAsync(relayBrowserSide, login.Stream, filter, stop.Token);
        var toBrowser = login.Stream.CopyToAsync(relayBrowserSide, stop.Token);

        byte[] key = [4, 1, 0, 0, 0, 0, 0, 0x61];
        byte[] encodings = [2, 0, 0, 1, 0, 0, 0, 0]; // Raw only
        byte[] request = [3, 0, 0, 0, 0, 0, 2, 128, 1, 144];
        await browser.WriteAsync((byte[])[.. key, .. encodings, .. request]);
        var header = await ReadAsync(browser, 4);

        Assert.Equal(0, header[0]); // FramebufferUpdate
        Assert.True(BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)) >= 1);
        Assert.Equal(1, filter.Dropped(RfbClientMessageKind.KeyEvent));
        Assert.Equal(1, filter.Forwarded(RfbClientMessageKind.FramebufferUpdateRequest));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => toServer);
        await Task.WhenAny(toBrowser, Task.Delay(Patience));
    }

    /// <summary>noVNC's side of RFB 3.8 with security type None (RFC 6143 section 7.1 to 7.3).</summary>
    private static async Task<(int Width, int Height, string Name)> BrowserHandshakeAsync(Stream browser)
    {
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadAsync(browser, 12)));
        await browser.WriteAsync("RFB 003.008\n"u8.ToArray());
        Assert.Equal(new byte[] { 1, 1 }, await ReadAsync(browser, 2));
        await browser.WriteAsync(new byte[] { 1 });
        Assert.Equal(new byte[4], await ReadAsync(browser, 4));
        await browser.WriteAsync(new byte[] { 1 });
        var init = await ReadAsync(browser, 24);
        var name = await ReadAsync(browser, (int)BinaryPrimitives.ReadUInt32BigEndian(init.AsSpan(20)));
        return (BinaryPrimitives.ReadUInt16BigEndian(init), BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2)), Encoding.UTF8.GetString(name));
    }

    private static async Task<byte[]> ReadAsync(Stream stream, int count)
    {
        var bytes = new byte[count];
        using var timeout = new CancellationTokenSource(Patience);
        await stream.ReadExactlyAsync(bytes, timeout.Token);
        return bytes;
    }
}
