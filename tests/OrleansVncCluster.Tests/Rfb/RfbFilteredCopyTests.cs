using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>The browser-to-server copy loop over in-memory connections.</summary>
public sealed class RfbFilteredCopyTests
{
    [Fact]
    public async Task ViewOnlyCopy_DeliversUpdateRequests_ButNoInput_AndEndsWhenTheBrowserDoes()
    {
        var (browser, relayBrowserSide) = DuplexPipe.Create();
        var (relayServerSide, server) = DuplexPipe.Create();
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ViewOnly = true });
        var copy = RfbFilteredCopy.CopyAsync(relayBrowserSide, relayServerSide, filter, CancellationToken.None);
        byte[] updateRequest = [3, 1, 0, 0, 0, 0, 1, 0, 1, 0];

        await WriteAsync(browser, [4, 1, 0, 0, 0, 0, 0, 0x61, 5, 1, 0, 1, 0, 1, .. updateRequest]);
        Assert.Equal(updateRequest, await ReadAsync(server, updateRequest.Length));
        await browser.DisposeAsync();

        Assert.Null(await copy.WaitAsync(Patience));
        Assert.Equal(1, filter.Dropped(RfbClientMessageKind.KeyEvent));
        Assert.Equal(1, filter.Dropped(RfbClientMessageKind.PointerEvent));
    }

    [Fact]
    public async Task UnknownMessage_EndsTheCopyWithTheReason_AfterDeliveringWhatCameBefore()
    {
        var (browser, relayBrowserSide) = DuplexPipe.Create();
        var (relayServerSide, server) = DuplexPipe.Create();
        var copy = RfbFilteredCopy.CopyAsync(relayBrowserSide, relayServerSide, new RfbClientMessageFilter(new RfbInputPolicy()), CancellationToken.None);

        await WriteAsync(browser, 4, 1, 0, 0, 0, 0, 0, 0x61, 77);

        Assert.Equal("the browser sent RFB message type 77, which the relay does not know", await copy.WaitAsync(Patience));
        Assert.Equal(new byte[] { 4, 1, 0, 0, 0, 0, 0, 0x61 }, await ReadAsync(server, 8));
    }
}
