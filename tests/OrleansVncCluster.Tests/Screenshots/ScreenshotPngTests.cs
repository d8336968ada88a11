using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Screenshots;
using SkiaSharp;

namespace OrleansVncCluster.Tests.Screenshots;

public sealed class ScreenshotPngTests
{
    [Fact]
    public void TheCapturedBgrxBytes_BecomeAPngOfTheSameColours()
    {
        var frame = Solid(8, 4, red: 0xcc, green: 0x22, blue: 0x00);

        using var png = SKBitmap.Decode(ScreenshotPng.Encode(frame, width: null));

        Assert.Equal((8, 4), (png.Width, png.Height));
        Assert.Equal(new SKColor(0xcc, 0x22, 0x00, 0xff), png.GetPixel(5, 2));
    }

    [Fact]
    public void AWidthBelowTheScreens_ScalesDownKeepingTheAspect_AndAWiderOneDoesNotScaleUp()
    {
        var frame = Solid(640, 400, red: 0, green: 0x80, blue: 0xff);

        using var thumbnail = SKBitmap.Decode(ScreenshotPng.Encode(frame, width: 160));
        using var full = SKBitmap.Decode(ScreenshotPng.Encode(frame, width: 4000));

        Assert.Equal((160, 100), (thumbnail.Width, thumbnail.Height));
        Assert.Equal(new SKColor(0, 0x80, 0xff, 0xff), thumbnail.GetPixel(80, 50));
        Assert.Equal((640, 400), (full.Width, full.Height));
    }

    private static RfbFramebuffer Solid(int width, int height, byte red, byte green, byte blue)
    {
        var pixels = new byte[width * height * 4];
        for (var i = 0; i < pixels.Length; i += 4)
        {
            // B, G, R, X as the capture delivers them; X is whatever the server left there.
            (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (blue, green, red, 0);
        }

        return new RfbFramebuffer(width, height, pixels);
    }
}
