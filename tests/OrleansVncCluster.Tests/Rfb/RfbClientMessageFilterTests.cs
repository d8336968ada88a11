using System.Buffers.Binary;
using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>Splitting the browser's byte stream into messages and applying the input policy, whatever the chunking.</summary>
public sealed class RfbClientMessageFilterTests
{
    private static readonly RfbInputPolicy Control = new();
    private static readonly RfbInputPolicy ViewOnly = new() { ViewOnly = true };

    /// <summary>One of every message the relay knows, tagged with whether it is input a viewer may not send.</summary>
    private static readonly (RfbClientMessageKind Kind, bool Input, byte[] Bytes)[] Catalogue =
    [
        (RfbClientMessageKind.SetPixelFormat, false, [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]),
        (RfbClientMessageKind.SetEncodings, false, [2, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0, 1, 0xFF, 0xFF, 0xFE, 0xCC]),
        (RfbClientMessageKind.FramebufferUpdateRequest, false, [3, 0, 0, 0, 0, 0, 5, 0, 3, 0]),
        (RfbClientMessageKind.KeyEvent, true, [4, 1, 0, 0, 0, 0, 0xFF, 0x0D]),
        (RfbClientMessageKind.PointerEvent, true, [5, 1, 0, 10, 0, 20]),
        (RfbClientMessageKind.ClientCutText, true, [6, 0, 0, 0, 0, 0, 0, 5, .. "hello"u8]),
        (RfbClientMessageKind.ClientCutText, false, [6, 0, 0, 0, .. S32(-8), .. U32(RfbClientMessage.ClipboardCaps | 1), .. U32(1024)]),
        (RfbClientMessageKind.ClientCutText, true, [6, 0, 0, 0, .. S32(-10), .. U32(RfbClientMessage.ClipboardProvide | 1), 1, 2, 3, 4, 5, 6]),
        (RfbClientMessageKind.EnableContinuousUpdates, false, [150, 1, 0, 0, 0, 0, 5, 0, 3, 0]),
        (RfbClientMessageKind.ClientFence, false, [248, 0, 0, 0, 0x80, 0, 0, 2, 3, 7, 8, 9]),
        (RfbClientMessageKind.Xvp, true, [250, 0, 1, 2]),
        (RfbClientMessageKind.SetDesktopSize, true, [251, 0, 5, 0, 3, 0, 1, 0, .. new byte[16]]),
        (RfbClientMessageKind.Gii, true, [253, 0x01, 4, 0, 9, 9, 9, 9]),
        (RfbClientMessageKind.Gii, true, [253, 0x81, 0, 2, 9, 9]),
        (RfbClientMessageKind.QemuExtendedKeyEvent, true, [255, 0, 0, 1, 0, 0, 0, 0x41, 0, 0, 0, 0x1E]),
        (RfbClientMessageKind.QemuAudio, false, [255, 1, 0, 0]),
        (RfbClientMessageKind.QemuAudio, false, [255, 1, 0, 2, 3, 2, 0, 0, 0xAC, 0x44]),
    ];

    private static readonly byte[] Everything = [.. Catalogue.SelectMany(m => m.Bytes)];

    private static readonly byte[] EverythingButInput = [.. Catalogue.Where(m => !m.Input).SelectMany(m => m.Bytes)];

    public static TheoryData<int> SplitPoints()
    {
        var data = new TheoryData<int>();
        for (var split = 0; split <= Everything.Length; split++)
        {
            data.Add(split);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SplitPoints))]
    public void ControlSession_ForwardsEveryByte_WhereverTheStreamIsSplit(int split)
    {
        var filter = new RfbClientMessageFilter(Control);

        var output = Run(filter, Everything, split, Everything.Length - split);

        Assert.Equal(Everything, output);
        Assert.Null(filter.Error);
        Assert.Equal(0, filter.DroppedBytes);
    }

    [Theory]
    [MemberData(nameof(SplitPoints))]
    public void ViewOnlySession_DropsExactlyTheInputMessages_WhereverTheStreamIsSplit(int split)
    {
        var filter = new RfbClientMessageFilter(ViewOnly);

        var output = Run(filter, Everything, split, Everything.Length - split);

        Assert.Equal(EverythingButInput, output);
        Assert.Equal(Catalogue.Where(m => m.Input).Sum(m => m.Bytes.Length), filter.DroppedBytes);
    }

    [Fact]
    public void ViewOnlySession_ByteByByte_DropsExactlyTheInputMessages()
    {
        var filter = new RfbClientMessageFilter(ViewOnly);

        var output = Run(filter, Everything, Enumerable.Repeat(1, Everything.Length).ToArray());

        Assert.Equal(EverythingButInput, output);
    }

    [Fact]
    public void ViewOnlySession_CountsWhatItDroppedAndForwarded_ByKind()
    {
        var filter = new RfbClientMessageFilter(ViewOnly);

        Run(filter, [.. Everything, .. Everything], Everything.Length * 2);

        Assert.Equal(2, filter.Dropped(RfbClientMessageKind.KeyEvent));
        Assert.Equal(2, filter.Dropped(RfbClientMessageKind.PointerEvent));
        Assert.Equal(4, filter.Dropped(RfbClientMessageKind.ClientCutText));
        Assert.Equal(2, filter.Forwarded(RfbClientMessageKind.ClientCutText)); // the capability announcements
        Assert.Equal(4, filter.Dropped(RfbClientMessageKind.Gii));
        Assert.Equal(2, filter.Dropped(RfbClientMessageKind.Xvp));
        Assert.Equal(2, filter.Dropped(RfbClientMessageKind.SetDesktopSize));
        Assert.Equal(2, filter.Dropped(RfbClientMessageKind.QemuExtendedKeyEvent));
        Assert.Equal(2, filter.Forwarded(RfbClientMessageKind.FramebufferUpdateRequest));
        Assert.Equal(4, filter.Forwarded(RfbClientMessageKind.QemuAudio));
        Assert.Equal(0, filter.Forwarded(RfbClientMessageKind.KeyEvent));
        Assert.Equal(2 * (5 + 10), filter.DroppedClipboardBytes); // legacy text, extended payload with its flags
    }

    public static TheoryData<int> EncodingSplitPoints()
    {
        var data = new TheoryData<int>();
        for (var split = 0; split <= NoVncEncodings.Length; split++)
        {
            data.Add(split);
        }

        return data;
    }

    /// <summary>noVNC 1.7's SetEncodings at depth 24 (docs/RFB.md), then a PointerEvent.</summary>
    private static readonly byte[] NoVncEncodings = EncodingsMessage(7, -260, 16, 21, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312, -313,
        -307, unchecked((int)0xC0A1E5CE), -316, 0x574D5664, -239);

    [Theory]
    [MemberData(nameof(EncodingSplitPoints))]
    public void ExtendedMouseButtons_IsReplacedByRaw_InSetEncodings_WhereverTheStreamIsSplit(int split)
    {
        var filter = new RfbClientMessageFilter(Control);
        var expected = EncodingsMessage(7, -260, 16, 21, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312, -313,
            -307, unchecked((int)0xC0A1E5CE), 0, 0x574D5664, -239);

        var output = Run(filter, NoVncEncodings, split, NoVncEncodings.Length - split);

        Assert.Equal(expected, output);
        Assert.Equal(1, filter.StrippedEncodings);
    }

    [Fact]
    public void ExtendedMouseButtons_IsReplaced_EvenByteByByte()
    {
        var filter = new RfbClientMessageFilter(Control);

        var output = Run(filter, NoVncEncodings, Enumerable.Repeat(1, NoVncEncodings.Length).ToArray());

        const int Word = 4 + (20 * 4);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(output.AsSpan(Word)));
        Assert.Equal(NoVncEncodings[..Word], output[..Word]);
        Assert.Equal(NoVncEncodings[(Word + 4)..], output[(Word + 4)..]);
    }

    [Fact]
    public void LargestSetEncodings_StreamsThroughInOddChunks_WithEveryExtendedMouseButtonsReplaced()
    {
        var filter = new RfbClientMessageFilter(Control);
        var input = EncodingsMessage(Enumerable.Repeat(-316, ushort.MaxValue).ToArray());
        var chunks = Enumerable.Repeat(4093, input.Length / 4093).Append(input.Length % 4093).ToArray();

        var output = Run(filter, input, chunks);

        Assert.Equal(EncodingsMessage(new int[ushort.MaxValue]), output);
        Assert.Equal(ushort.MaxValue, filter.StrippedEncodings);
    }

    [Fact]
    public void MinusThreeSixteen_IsOnlyReplacedAsAnEncoding_NotInsideOtherMessages()
    {
        var filter = new RfbClientMessageFilter(Control);
        byte[] pointer = [5, 0, 0xFF, 0xFF, 0xFE, 0xC4];
        byte[] key = [4, 1, 0, 0, 0xFF, 0xFF, 0xFE, 0xC4];
        byte[] encodingsHeaderLike = EncodingsMessage(1);

        Assert.Equal([.. pointer, .. key, .. encodingsHeaderLike], Run(filter, [.. pointer, .. key, .. encodingsHeaderLike], 6 + 8 + 8));
    }

    [Fact]
    public void RandomChunking_NeverChangesWhatIsForwarded()
    {
        var random = new Random(1234);
        var stream = Enumerable.Range(0, 50).SelectMany(_ => Catalogue[random.Next(Catalogue.Length)].Bytes).ToArray();
        var expected = new RfbClientMessageFilter(ViewOnly);
        var reference = Run(expected, stream, stream.Length);
        for (var round = 0; round < 200; round++)
        {
            var chunks = new List<int>();
            for (var left = stream.Length; left > 0;)
            {
                var size = Math.Min(left, random.Next(1, 40));
                chunks.Add(size);
                left -= size;
            }

            Assert.Equal(reference, Run(new RfbClientMessageFilter(ViewOnly), stream, [.. chunks]));
        }
    }

    [Fact]
    public void ClipboardOverTheCap_IsSkippedAsItArrives_AndWhatFollowsGoesThrough()
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { MaxClipboardBytes = 1024 * 1024 });
        const int TextLength = 5 * 1024 * 1024;
        var keyEvent = Catalogue[3].Bytes;
        var buffer = new byte[RfbClientMessageFilter.Headroom + 65536];
        var output = new List<byte>();

        void Feed(ReadOnlySpan<byte> chunk)
        {
            chunk.CopyTo(buffer.AsSpan(RfbClientMessageFilter.Headroom));
            var result = filter.Filter(buffer, chunk.Length);
            Assert.False(result.Failed, result.Error);
            output.AddRange(buffer.AsSpan(result.Offset, result.Count).ToArray());
        }

        Feed([6, 0, 0, 0, .. U32(TextLength)]);
        var text = new byte[65536];
        Array.Fill(text, (byte)'x');
        for (var sent = 0; sent < TextLength; sent += text.Length)
        {
            Feed(text);
        }

        Feed(keyEvent);

        Assert.Equal(keyEvent, output);
        Assert.Equal(TextLength, filter.DroppedClipboardBytes);
        Assert.Equal(1, filter.Forwarded(RfbClientMessageKind.KeyEvent));
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(17, false)]
    public void ClipboardCap_AllowsExactlyTheCap(int length, bool forwarded)
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { MaxClipboardBytes = 16 });
        byte[] message = [6, 0, 0, 0, .. U32((uint)length), .. new byte[length]];

        Assert.Equal(forwarded ? message : [], Run(filter, message, message.Length));
    }

    [Fact]
    public void ClipboardToTheVmOff_DropsContents_ButKeepsTheCapabilityAnnouncement()
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { ClipboardToServer = false });
        var clipboard = Catalogue.Where(m => m.Kind == RfbClientMessageKind.ClientCutText).ToArray();
        var input = clipboard.SelectMany(m => m.Bytes).ToArray();

        Assert.Equal(clipboard[1].Bytes, Run(filter, input, input.Length));
    }

    [Fact]
    public void UnknownMessageType_EndsTheStream_AfterForwardingWhatCameBefore()
    {
        var filter = new RfbClientMessageFilter(Control);
        var buffer = new byte[RfbClientMessageFilter.Headroom + 32];
        byte[] input = [3, 0, 0, 0, 0, 0, 5, 0, 3, 0, 77, 1, 2, 3];
        input.CopyTo(buffer, RfbClientMessageFilter.Headroom);

        var result = filter.Filter(buffer, input.Length);

        Assert.Equal("the browser sent RFB message type 77, which the relay does not know", result.Error);
        Assert.Equal(input[..10], buffer.AsSpan(result.Offset, result.Count).ToArray());
        Assert.True(filter.Filter(buffer, 1).Failed);
    }

    [Theory]
    [InlineData(new byte[] { 248, 0, 0, 0, 0, 0, 0, 0, 65 }, "the browser sent a ClientFence with 65 bytes of payload; at most 64 are allowed")]
    [InlineData(new byte[] { 255, 7 }, "the browser sent QEMU message subtype 7, which the relay does not know")]
    [InlineData(new byte[] { 255, 1, 0, 3 }, "the browser sent QEMU audio operation 3, which the relay does not know")]
    [InlineData(new byte[] { 6, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFE }, "the browser sent an extended clipboard message of 2 bytes, too short for its flags")]
    public void HostileHeaders_EndTheStreamWithAReason(byte[] input, string reason)
    {
        var filter = new RfbClientMessageFilter(Control);
        var buffer = new byte[RfbClientMessageFilter.Headroom + input.Length];
        input.CopyTo(buffer, RfbClientMessageFilter.Headroom);

        Assert.Equal(reason, filter.Filter(buffer, input.Length).Error);
    }

    [Fact]
    public void LargestExtendedClipboardLength_IsSkippedWithoutOverflow()
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy { MaxClipboardBytes = 10 });
        byte[] input = [6, 0, 0, 0, 0x80, 0, 0, 0, .. U32(RfbClientMessage.ClipboardProvide), 1, 2, 3];

        var output = Run(filter, input, input.Length);

        Assert.Empty(output);
        Assert.Null(filter.Error);
        Assert.Equal(2147483648L, filter.DroppedClipboardBytes);
    }

    [Fact]
    public void Filtering_AllocatesNothing_OnceRunning()
    {
        var filter = new RfbClientMessageFilter(ViewOnly);
        var buffer = new byte[RfbClientMessageFilter.Headroom + Everything.Length];
        var first = Everything.Length / 3;
        (int Offset, int Count)[] pieces = [(0, first), (first, first), (2 * first, Everything.Length - (2 * first))];
        void FeedInThree()
        {
            foreach (var (offset, count) in pieces)
            {
                Everything.AsSpan(offset, count).CopyTo(buffer.AsSpan(RfbClientMessageFilter.Headroom));
                filter.Filter(buffer, count);
            }
        }

        FeedInThree();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            FeedInThree();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Null(filter.Error);
    }

    private static byte[] Run(RfbClientMessageFilter filter, byte[] input, params int[] chunks)
    {
        var buffer = new byte[RfbClientMessageFilter.Headroom + input.Length];
        var output = new List<byte>();
        var offset = 0;
        foreach (var chunk in chunks)
        {
            input.AsSpan(offset, chunk).CopyTo(buffer.AsSpan(RfbClientMessageFilter.Headroom));
            offset += chunk;
            var result = filter.Filter(buffer, chunk);
            Assert.False(result.Failed, result.Error);
            output.AddRange(buffer.AsSpan(result.Offset, result.Count).ToArray());
        }

        Assert.Equal(input.Length, offset);
        return [.. output];
    }
}
