using System.Buffers.Binary;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Tests.Rfb;

namespace OrleansVncCluster.Tests.Screenshots;

public sealed class RfbFramebufferCaptureTests
{
    private static readonly RfbServerInit FourByTwo = RfbServerInit.Create(4, 2, RfbTestPeer.PixelFormat, "vm");

    [Fact]
    public async Task AsksForTrueColourRawAndTheWholeScreen_ThenAssemblesRectanglesAfterOtherMessages()
    {
        var (client, server) = DuplexPipe.Create();
        var capture = RfbFramebufferCapture.CaptureAsync(client, FourByTwo, TestContext.Current.CancellationToken);

        var requests = await RfbTestPeer.ReadAsync(server, 38);
        Assert.Equal(0, requests[0]); // SetPixelFormat
        Assert.Equal([32, 24, 0, 1], requests[4..8]);
        Assert.Equal([16, 8, 0], requests[14..17]);
        Assert.Equal(2, requests[20]); // SetEncodings: one, Raw
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(requests.AsSpan(22)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(requests.AsSpan(24)));
        Assert.Equal(3, requests[28]); // FramebufferUpdateRequest, not incremental, 0,0,4,2
        Assert.Equal(0, requests[29]);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16BigEndian(requests.AsSpan(34)));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(requests.AsSpan(36)));

        // A bell and a clipboard text first, then the screen in two updates: left half, then right half.
        await RfbTestPeer.WriteAsync(server, 2);
        await RfbTestPeer.WriteAsync(server, [3, 0, 0, 0, .. RfbTestPeer.U32(5), .. "hello"u8.ToArray()]);
        await RfbTestPeer.WriteAsync(server, Update(Rectangle(0, 0, 2, 2, 0x11)));
        Assert.False(capture.IsCompleted);
        await RfbTestPeer.WriteAsync(server, Update(Rectangle(2, 0, 2, 2, 0x22)));

        var result = await capture;
        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal((4, 2), (result.Frame.Width, result.Frame.Height));
        // Row 1, column 3 is from the second update; row 1, column 0 from the first.
        Assert.Equal(0x22, result.Frame.Pixels[((1 * 4) + 3) * 4]);
        Assert.Equal(0x11, result.Frame.Pixels[((1 * 4) + 0) * 4]);
    }

    [Theory]
    [InlineData(16, "encoding 16")]
    [InlineData(0, "outside")]
    public async Task ARectangleItDidNotAskFor_EndsTheCaptureWithAReason(int encoding, string expected)
    {
        var (client, server) = DuplexPipe.Create();
        var capture = RfbFramebufferCapture.CaptureAsync(client, FourByTwo, TestContext.Current.CancellationToken);
        await RfbTestPeer.ReadAsync(server, 38);
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(0), (ushort)(encoding == 0 ? 3 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), 2);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), encoding);
        await RfbTestPeer.WriteAsync(server, [0, 0, 0, 1, .. header]);

        var result = await capture;
        Assert.False(result.Succeeded);
        Assert.Equal(RfbFailureKind.ProtocolViolation, result.Failure);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScreenTooLargeToHold_IsRefusedBeforeAnythingIsAllocatedOrSent()
    {
        var (client, _) = DuplexPipe.Create();
        var huge = RfbServerInit.Create(65535, 65535, RfbTestPeer.PixelFormat, "wall");

        var result = await RfbFramebufferCapture.CaptureAsync(client, huge, TestContext.Current.CancellationToken);

        Assert.False(result.Succeeded);
        Assert.Contains("65535x65535", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatHangsUpMidScreen_IsReportedAsClosed()
    {
        var (client, server) = DuplexPipe.Create();
        var capture = RfbFramebufferCapture.CaptureAsync(client, FourByTwo, TestContext.Current.CancellationToken);
        await RfbTestPeer.ReadAsync(server, 38);
        await RfbTestPeer.WriteAsync(server, [0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 2, 0, 0, 0, 0, 1, 2, 3]);
        await server.DisposeAsync();

        var result = await capture;
        Assert.Equal(RfbFailureKind.Closed, result.Failure);
    }

    private static byte[] Update(byte[] rectangle) => [0, 0, 0, 1, .. rectangle];

    private static byte[] Rectangle(int x, int y, int width, int height, byte value)
    {
        var bytes = new byte[12 + (width * height * 4)];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)x);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)y);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)width);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), (ushort)height);
        bytes.AsSpan(12).Fill(value);
        return bytes;
    }
}
