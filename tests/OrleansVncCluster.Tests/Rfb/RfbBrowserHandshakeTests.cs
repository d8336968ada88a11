using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>The relay as the browser's RFB server, played against a scripted browser.</summary>
public sealed class RfbBrowserHandshakeTests
{
    private static readonly RfbServerInit ServerInitFromTarget = RfbServerInit.Create(1280, 720, PixelFormat, "vm-42");

    private static RfbBrowserHandshake Handshake() => new(Patience);

    [Fact]
    public async Task Rfb38_OffersNoneOnly_SendsSecurityResult_ThenTheServersServerInit()
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);

        Assert.Equal("RFB 003.008\n", await ReadTextAsync(browser, 12));
        await WriteTextAsync(browser, "RFB 003.008\n");
        Assert.Equal(new byte[] { 1, 1 }, await ReadAsync(browser, 2));
        await WriteAsync(browser, 1);
        Assert.Equal(U32(0), await ReadAsync(browser, 4));
        await WriteAsync(browser, 0); // asks for an exclusive console; the relay decides
        Assert.Equal(ServerInitFromTarget.Bytes.ToArray(), await ReadAsync(browser, ServerInitFromTarget.Bytes.Length));

        var result = await handshake;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(RfbVersion.V3_8, result.Version);
        Assert.False(result.BrowserAskedShared);
    }

    [Fact]
    public async Task Rfb37_HasNoSecurityResultAfterNone()
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, "RFB 003.007\n");
        Assert.Equal(new byte[] { 1, 1 }, await ReadAsync(browser, 2));
        await WriteAsync(browser, 1);
        await WriteAsync(browser, 1);
        Assert.Equal(ServerInitFromTarget.Bytes.ToArray(), await ReadAsync(browser, ServerInitFromTarget.Bytes.Length));

        var result = await handshake;
        Assert.Equal(RfbVersion.V3_7, result.Version);
        Assert.True(result.BrowserAskedShared);
    }

    [Theory]
    [InlineData("RFB 003.003\n")]
    [InlineData("RFB 003.005\n")]
    public async Task Rfb33_TheRelayNamesSecurityNone_AsAU32(string version)
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, version);
        Assert.Equal(U32(1), await ReadAsync(browser, 4));
        await WriteAsync(browser, 1);
        Assert.Equal(ServerInitFromTarget.Bytes.ToArray(), await ReadAsync(browser, ServerInitFromTarget.Bytes.Length));

        Assert.Equal(RfbVersion.V3_3, (await handshake).Version);
    }

    [Fact]
    public async Task BrowserChoosingAnotherSecurityType_IsToldWhy_On38()
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, "RFB 003.008\n");
        await ReadAsync(browser, 2);
        await WriteAsync(browser, 2);
        var reason = "the browser chose security type VncAuth; the relay offered only None";
        byte[] expected = [.. U32(1), .. Reason(reason)];
        Assert.Equal(expected, await ReadAsync(browser, 8 + reason.Length));

        var result = await handshake;
        Assert.Equal(RfbFailureKind.ProtocolViolation, result.Failure);
        Assert.Equal(reason, result.Reason);
    }

    [Theory]
    [InlineData("RFB 004.000\n", RfbFailureKind.UnsupportedVersion, "the browser asked for RFB 4.0; the relay speaks 3.3, 3.7 and 3.8")]
    [InlineData("RFB 003.889\n", RfbFailureKind.UnsupportedVersion, "the browser asked for RFB 3.889; the relay speaks 3.3, 3.7 and 3.8")]
    [InlineData("GET / HTTP/1\n", RfbFailureKind.NotRfb, "the browser does not speak RFB: it sent 'GET / HTTP/1'")]
    public async Task BadVersion_FailsWithAReadableReason(string version, RfbFailureKind kind, string reason)
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, version);

        var result = await handshake;
        Assert.Equal(kind, result.Failure);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public async Task Refuse_TellsTheBrowserTheReasonInRfb()
    {
        var (relay, browser) = DuplexPipe.Create();
        var refusal = Handshake().RefuseAsync(relay, "the VNC server refused the password");

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, "RFB 003.008\n");
        byte[] expected = [0, .. Reason("the VNC server refused the password")];
        Assert.Equal(expected, await ReadAsync(browser, 5 + 35));

        var result = await refusal;
        Assert.Equal(RfbFailureKind.Refused, result.Failure);
    }

    [Fact]
    public async Task Refuse_On33_SendsSecurityTypeZeroAndTheReason()
    {
        var (relay, browser) = DuplexPipe.Create();
        var refusal = Handshake().RefuseAsync(relay, "no");

        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, "RFB 003.003\n");
        byte[] expected = [.. U32(0), .. Reason("no")];
        Assert.Equal(expected, await ReadAsync(browser, 10));
        await refusal;
    }

    [Fact]
    public async Task SilentBrowser_FailsAtTheDeadline()
    {
        var time = new FakeTimeProvider();
        var (relay, browser) = DuplexPipe.Create();
        var handshake = new RfbBrowserHandshake(TimeSpan.FromSeconds(3), time).RunAsync(relay, ServerInitFromTarget);
        await ReadAsync(browser, 12);

        time.Advance(TimeSpan.FromSeconds(3));

        var result = await handshake.WaitAsync(Patience);
        Assert.Equal(RfbFailureKind.Timeout, result.Failure);
        Assert.Equal("the browser did not finish the RFB handshake within 3 s", result.Reason);
    }

    [Fact]
    public async Task BrowserLeaving_IsAResult()
    {
        var (relay, browser) = DuplexPipe.Create();
        var handshake = Handshake().RunAsync(relay, ServerInitFromTarget);
        await ReadAsync(browser, 12);
        await WriteTextAsync(browser, "RFB 003.008\n");

        await browser.DisposeAsync();

        Assert.Equal(RfbFailureKind.Closed, (await handshake.WaitAsync(Patience)).Failure);
    }
}
