using System.Buffers.Binary;
using System.Text;
using OrleansVncCluster.Relay.Rfb;
using static OrleansVncCluster.Tests.Rfb.RfbTestPeer;

namespace OrleansVncCluster.Tests.Rfb;

/// <summary>Finding the server-to-browser message boundaries and dropping clipboard contents, whatever the chunking.</summary>
public sealed class RfbServerMessageReaderTests
{
    private const int Bpp32 = 32;

    /// <summary>One of every message the reader knows, and a FramebufferUpdate with a rectangle of every encoding it
    /// walks (at 32 bits per pixel), tagged with whether it carries clipboard contents.</summary>
    private static readonly (RfbServerMessageKind Kind, bool Clipboard, byte[] Bytes)[] Catalogue =
    [
        (RfbServerMessageKind.FramebufferUpdate, false, [0, 0, .. U16(15),
            .. Rect(2, 2, 0), .. Fill(2 * 2 * 4),
            .. Rect(2, 2, 1), 0, 0, 0, 1,
            .. Rect(4, 4, 2), .. U32(2), .. Fill(4), .. Fill(2 * (4 + 8)),
            // Hextile 18x17: four tiles 16x16, 2x16, 16x1, 2x1.
            .. Rect(18, 17, 5),
                2 | 4 | 8 | 16, .. Fill(4), .. Fill(4), 2, .. Fill(2 * (4 + 2)),
                1, .. Fill(2 * 16 * 4),
                8, 3, .. Fill(3 * 2),
                0,
            .. Rect(0, 5, 5),
            .. Rect(8, 8, 6), .. U32(3), 0x78, 0x9C, 0x03,
            .. Rect(8, 8, 16), .. U32(5), .. Fill(5),
            .. Rect(3, 2, -239), .. Fill((3 * 2 * 4) + 2),
            .. Rect(64, 48, -223),
            .. Rect(0, 0, -261), 1,
            .. Rect(0, 0, -307), .. U32(3), .. "abc"u8,
            .. Rect(64, 48, -308), 1, 0, 0, 0, .. Fill(16),
            .. Rect(2, 1, 0x574D5664), 0, 0, .. Fill(2 * 2 * 1 * 4),
            .. Rect(1, 1, 0x574D5664), 1, 0, .. Fill(4),
            .. Rect(0, 0, -258)]),
        (RfbServerMessageKind.FramebufferUpdate, false, [0, 0, 0xFF, 0xFF, .. Rect(1, 1, 0), .. Fill(4), .. Rect(0, 0, -224)]),
        (RfbServerMessageKind.FramebufferUpdate, false, [0, 0, 0, 0]),
        (RfbServerMessageKind.SetColourMapEntries, false, [1, 0, 0, 0, .. U16(2), .. Fill(12)]),
        (RfbServerMessageKind.Bell, false, [2]),
        (RfbServerMessageKind.ServerCutText, true, [3, 0, 0, 0, .. S32(6), .. "secret"u8]),
        (RfbServerMessageKind.ServerCutText, false, [3, 0, 0, 0, .. S32(-8), .. U32(RfbClientMessage.ClipboardCaps | 1), .. U32(1024)]),
        (RfbServerMessageKind.ServerCutText, true, [3, 0, 0, 0, .. S32(-10), .. U32(RfbClientMessage.ClipboardProvide | 1), .. Fill(6)]),
        (RfbServerMessageKind.ServerCutText, false, [3, 0, 0, 0, .. S32(-4), .. U32((1u << 27) | 1)]),
        (RfbServerMessageKind.EndOfContinuousUpdates, false, [150]),
        (RfbServerMessageKind.ServerFence, false, [248, 0, 0, 0, .. U32(0x80000003), 3, 1, 2, 3]),
        (RfbServerMessageKind.Xvp, false, [250, 0, 1, 1]),
        (RfbServerMessageKind.Gii, false, [253, 0x01, 4, 0, 9, 9, 9, 9]),
        (RfbServerMessageKind.Gii, false, [253, 0x81, 0, 2, 9, 9]),
        (RfbServerMessageKind.QemuAudio, false, [255, 1, 0, 1]),
        (RfbServerMessageKind.QemuAudio, false, [255, 1, 0, 2, .. U32(3), 7, 7, 7]),
    ];

    private static readonly byte[] Everything = [.. Catalogue.SelectMany(m => m.Bytes)];

    private static readonly byte[] EverythingButClipboard = [.. Catalogue.Where(m => !m.Clipboard).SelectMany(m => m.Bytes)];

    [Fact]
    public void Passing_ForwardsEveryByte_WhereverTheStreamIsSplit()
    {
        for (var split = 0; split <= Everything.Length; split++)
        {
            var reader = new RfbServerMessageReader(new Policy(), Bpp32);

            var output = Run(reader, Everything, split, Everything.Length - split);

            Assert.True(Everything.AsSpan().SequenceEqual(output), $"split at {split}");
            Assert.True(reader.AtMessageBoundary, $"split at {split}");
        }
    }

    [Fact]
    public void NoClipboardToTheBrowser_DropsExactlyTheClipboardContents_WhereverTheStreamIsSplit()
    {
        for (var split = 0; split <= Everything.Length; split++)
        {
            var reader = new RfbServerMessageReader(Policy.DropClipboard, Bpp32);

            var output = Run(reader, Everything, split, Everything.Length - split);

            Assert.True(EverythingButClipboard.AsSpan().SequenceEqual(output), $"split at {split}");
            Assert.Equal(6 + 10, reader.DroppedClipboardBytes);
        }
    }

    [Fact]
    public void NoClipboardToTheBrowser_ByteByByte_AndInRandomChunks_DropsExactlyTheClipboardContents()
    {
        var random = new Random(13);
        var chunkings = new List<int[]> { Enumerable.Repeat(1, Everything.Length).ToArray() };
        for (var round = 0; round < 50; round++)
        {
            var chunks = new List<int>();
            for (var left = Everything.Length; left > 0;)
            {
                chunks.Add(Math.Min(left, random.Next(1, 40)));
                left -= chunks[^1];
            }

            chunkings.Add([.. chunks]);
        }

        foreach (var chunks in chunkings)
        {
            var output = Run(new RfbServerMessageReader(Policy.DropClipboard, Bpp32), Everything, chunks);

            Assert.Equal(EverythingButClipboard, output);
        }
    }

    [Fact]
    public void EveryMessage_IsReportedWithItsKindAndWhereItStarts()
    {
        var policy = new Policy();
        var reader = new RfbServerMessageReader(policy, Bpp32);

        Run(reader, Everything, Enumerable.Repeat(1, Everything.Length).ToArray());

        var starts = Catalogue.Select((m, i) => (m.Kind, Catalogue.Take(i).Sum(earlier => (long)earlier.Bytes.Length))).ToList();
        Assert.Equal(starts, policy.Seen.Select(m => (m.Kind, m.Position)).ToList());
        Assert.Equal(Everything.Length, reader.Position);
        Assert.Equal(15 + 2, reader.Rectangles);
        Assert.Equal(3, reader.Forwarded(RfbServerMessageKind.FramebufferUpdate));
        Assert.Equal(4, reader.Forwarded(RfbServerMessageKind.ServerCutText));
    }

    [Theory]
    [InlineData(6, true)]
    [InlineData(7, false)]
    public void ClipboardCap_AllowsExactlyTheCap(int length, bool forwarded)
    {
        var reader = new RfbServerMessageReader(Policy.Cap(6), Bpp32);
        byte[] input = [3, 0, 0, 0, .. S32(length), .. Fill(length), 2];

        var output = Run(reader, input, input.Length);

        Assert.Equal(forwarded ? input : [2], output);
    }

    [Fact]
    public void LargestExtendedClipboardLength_IsSkippedAsItArrives_WithoutOverflow()
    {
        var reader = new RfbServerMessageReader(Policy.DropClipboard, Bpp32);
        byte[] header = [3, 0, 0, 0, .. S32(int.MinValue), .. U32(RfbClientMessage.ClipboardProvide | 1)];

        var output = Run(reader, header, header.Length);

        Assert.Empty(output);
        Assert.Equal(2147483648L, reader.DroppedClipboardBytes);
        Assert.False(reader.AtMessageBoundary);
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(16, 2)]
    public void ThePixelFormatTheBrowserAskedFor_SizesTheNextUpdate(int bitsPerPixel, int bytesPerPixel)
    {
        var reader = new RfbServerMessageReader(Policy.DropClipboard, Bpp32);
        byte[] update = [0, 0, .. U16(1), .. Rect(3, 3, 0), .. Fill(3 * 3 * bytesPerPixel)];
        byte[] cut = [3, 0, 0, 0, .. S32(1), 0x41];

        reader.ClientSetPixelFormat(bitsPerPixel);
        var output = Run(reader, [.. update, .. cut, 2], update.Length + cut.Length + 1);

        Assert.Equal([.. update, 2], output);
    }

    [Theory]
    [InlineData(7, "encoding 7")]
    [InlineData(21, "encoding 21")]
    [InlineData(-260, "encoding -260")]
    public void AnEncodingItCannotWalk_EndsTheStream_AfterForwardingWhatCameBefore(int encoding, string reason)
    {
        var reader = new RfbServerMessageReader(new Policy(), Bpp32);
        byte[] before = [2, 0, 0, .. U16(1)];
        byte[] input = [.. before, .. Rect(4, 4, encoding), 0, 0, 0];
        var buffer = new byte[RfbServerMessageReader.Headroom + input.Length];
        input.CopyTo(buffer, RfbServerMessageReader.Headroom);

        var result = reader.Filter(buffer, input.Length);

        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Equal(before, buffer.AsSpan(result.Offset, result.Count).ToArray());
        Assert.True(reader.Filter(buffer, 0).Failed);
        Assert.False(RfbServerMessageReader.CanRead(encoding));
    }

    [Theory]
    [InlineData(new byte[] { 77 }, "message type 77")]
    [InlineData(new byte[] { 248, 0, 0, 0, 0, 0, 0, 0, 65 }, "65 bytes of payload")]
    [InlineData(new byte[] { 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFE }, "too short for its flags")]
    [InlineData(new byte[] { 255, 2, 0, 0 }, "subtype 2")]
    [InlineData(new byte[] { 255, 1, 0, 3 }, "operation 3")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0x57, 0x4D, 0x56, 0x64, 2 }, "VMware cursor of type 2")]
    public void HostileHeaders_EndTheStreamWithAReason(byte[] input, string reason)
    {
        var reader = new RfbServerMessageReader(new Policy(), Bpp32);
        var buffer = new byte[RfbServerMessageReader.Headroom + input.Length];
        input.CopyTo(buffer, RfbServerMessageReader.Headroom);

        var result = reader.Filter(buffer, input.Length);

        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Contains("VNC server", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void APixelSizeItDoesNotKnow_EndsTheStreamAtTheFirstUpdate()
    {
        var reader = new RfbServerMessageReader(new Policy(), 24);
        byte[] input = [2, 0, 0, 0, 0];
        var buffer = new byte[RfbServerMessageReader.Headroom + input.Length];
        input.CopyTo(buffer, RfbServerMessageReader.Headroom);

        var result = reader.Filter(buffer, input.Length);

        Assert.Contains("bits per pixel", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, result.Count);
    }

    [Fact]
    public void Reading_AllocatesNothing_OnceRunning()
    {
        var reader = new RfbServerMessageReader(Policy.DropClipboard, Bpp32);
        var buffer = new byte[RfbServerMessageReader.Headroom + Everything.Length];
        var first = Everything.Length / 3;
        (int Offset, int Count)[] pieces = [(0, first), (first, first), (2 * first, Everything.Length - (2 * first))];
        void FeedInThree()
        {
            foreach (var (offset, count) in pieces)
            {
                Everything.AsSpan(offset, count).CopyTo(buffer.AsSpan(RfbServerMessageReader.Headroom));
                reader.Filter(buffer, count);
            }
        }

        // Rounds of 1,000 reads; the JIT's tier-up of this loop can allocate on this thread once (5,656 bytes seen in a
        // proof run), so the steady state is a round that allocates nothing: per-read allocations would show in every round.
        var rounds = new List<long>();
        for (var round = 0; round < 3 && (rounds.Count == 0 || rounds[^1] != 0); round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                FeedInThree();
            }

            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(rounds[^1] == 0, $"every round of 1,000 reads allocated: {string.Join(", ", rounds)} bytes");
        Assert.Null(reader.Error);
    }

    /// <summary>noVNC 1.7's SetEncodings at depth 24 with H.264 (docs/RFB.md), then a key.</summary>
    private static readonly byte[] NoVncEncodings = [.. EncodingsMessage(1, 50, 7, -260, 16, 21, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312,
        -313, -307, unchecked((int)0xC0A1E5CE), -316, 0x574D5664, -239), 4, 1, 0, 0, 0, 0, 0, 0x61];

    [Fact]
    public void ClientFilter_WithAServerReader_AsksOnlyForEncodingsTheReaderWalks_WhereverTheStreamIsSplit()
    {
        // Each dropped encoding becomes the one before it: ZRLE stays the server's first choice, as Tight was before it.
        byte[] expected = [.. EncodingsMessage(1, 1, 1, 1, 16, 16, 5, 2, 6, 0, -26, -254, -223, -224, -258, -261, -308, -309, -312,
            -313, -307, unchecked((int)0xC0A1E5CE), 0, 0x574D5664, -239), 4, 1, 0, 0, 0, 0, 0, 0x61];
        for (var split = 0; split <= NoVncEncodings.Length; split++)
        {
            var filter = new RfbClientMessageFilter(new RfbInputPolicy()) { ServerReader = new RfbServerMessageReader(new Policy(), Bpp32) };

            var output = RunClient(filter, NoVncEncodings, split, NoVncEncodings.Length - split);

            Assert.True(expected.AsSpan().SequenceEqual(output), $"split at {split}");
            Assert.Equal(4, filter.ReplacedEncodings);
        }
    }

    [Fact]
    public void ClientFilter_WithoutAServerReader_LeavesTheEncodingsAlone()
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy());

        var output = RunClient(filter, NoVncEncodings, NoVncEncodings.Length);

        Assert.Equal(0, filter.ReplacedEncodings);
        Assert.Equal(50, BinaryPrimitives.ReadInt32BigEndian(output.AsSpan(8)));
    }

    [Fact]
    public void ClientFilter_PassesTheBrowsersPixelFormatToTheReader()
    {
        var reader = new RfbServerMessageReader(new Policy(), Bpp32);
        var filter = new RfbClientMessageFilter(new RfbInputPolicy()) { ServerReader = reader };
        byte[] pixelFormat = [0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0];
        byte[] update = [0, 0, .. U16(1), .. Rect(2, 2, 0), .. Fill(2 * 2 * 2)];

        RunClient(filter, pixelFormat, 3, 17);
        var output = Run(reader, [.. update, 2], update.Length + 1);

        Assert.Equal([.. update, 2], output);
        Assert.True(reader.AtMessageBoundary);
    }

    [Theory]
    [InlineData(new byte[] { 3, 0, 0, 0, 0, 0, 0, 64, 0, 48 })]
    [InlineData(new byte[] { 2, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0x11 })]
    [InlineData(new byte[] { 150, 1, 0, 0, 0, 0, 0, 64, 0, 48 })]
    public void ClientFilter_RefusesAPixelFormatChange_AfterTheServerMayHaveStartedUpdates(byte[] request)
    {
        var filter = new RfbClientMessageFilter(new RfbInputPolicy()) { ServerReader = new RfbServerMessageReader(new Policy(), Bpp32) };
        byte[] pixelFormat = [0, 0, 0, 0, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0];
        byte[] input = [.. request, .. pixelFormat];
        var buffer = new byte[RfbClientMessageFilter.Headroom + input.Length];
        input.CopyTo(buffer, RfbClientMessageFilter.Headroom);

        var result = filter.Filter(buffer, input.Length);

        Assert.Contains("pixel format", result.Error, StringComparison.Ordinal);
        Assert.Equal(request, buffer.AsSpan(result.Offset, result.Count).ToArray());
    }

    private static byte[] Run(RfbServerMessageReader reader, byte[] input, params int[] chunks)
    {
        var buffer = new byte[RfbServerMessageReader.Headroom + input.Length];
        var output = new List<byte>();
        var offset = 0;
        foreach (var chunk in chunks)
        {
            input.AsSpan(offset, chunk).CopyTo(buffer.AsSpan(RfbServerMessageReader.Headroom));
            offset += chunk;
            var result = reader.Filter(buffer, chunk);
            Assert.False(result.Failed, result.Error);
            output.AddRange(buffer.AsSpan(result.Offset, result.Count).ToArray());
        }

        Assert.Equal(input.Length, offset);
        return [.. output];
    }

    private static byte[] RunClient(RfbClientMessageFilter filter, byte[] input, params int[] chunks)
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

        return [.. output];
    }

    private static byte[] Rect(int width, int height, int encoding) => [0, 1, 0, 2, .. U16(width), .. U16(height), .. S32(encoding)];

    private static byte[] Fill(int count) => Enumerable.Range(0, count).Select(i => (byte)(0x30 + (i % 40))).ToArray();

    /// <summary>A policy that notes every message it is asked about and drops what <see cref="_drop"/> says.</summary>
    private sealed class Policy(Func<RfbServerMessage, bool>? drop = null) : IRfbServerMessagePolicy
    {
        private readonly Func<RfbServerMessage, bool>? _drop = drop;

        public static Policy DropClipboard => new(m => m.CarriesClipboardData);

        public List<RfbServerMessage> Seen { get; } = [];

        public static Policy Cap(long bytes) => new(m => m.CarriesClipboardData && m.ClipboardLength > bytes);

        public RfbMessageVerdict Decide(in RfbServerMessage message)
        {
            if (_drop is null)
            {
                Seen.Add(message);
            }

            return _drop?.Invoke(message) == true ? RfbMessageVerdict.Drop : RfbMessageVerdict.Forward;
        }
    }
}
