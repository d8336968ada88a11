using System.Buffers.Binary;
using System.Text;
using OrleansVncCluster.IntegrationTests.Console;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>
/// Recordings written by the test in the real file format (<see cref="RecordingFileWriter.WriteAt"/>), as fast as the disk
/// takes them: a 64x48 screen whose whole area is one colour at a time, sent as one Raw rectangle, in the pixel format
/// noVNC asks for (32 bpp, depth 24, little-endian, true colour, maxima 255, shifts red 0, green 8, blue 16: noVNC 1.7
/// core/rfb.js, RFB.messages.pixelFormat), so the canvas shows exactly the colour recorded.
/// </summary>
public static class SyntheticRecording
{
    public const int Width = 64;
    public const int Height = 48;

    /// <summary>The SetPixelFormat noVNC sends (its 16-byte format after the type and 3 padding bytes).</summary>
    public static byte[] NoVncSetPixelFormat { get; } = [0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0];

    /// <summary>The colour of minute <paramref name="minute"/> of <see cref="WriteHour"/>: distinct for each of the 60.</summary>
    public static Rgb MinuteColour(int minute) => new(minute * 4, 255 - (minute * 4), minute * 97 % 256);

    /// <summary>A 60-minute recording: every second a full-screen Raw update in the colour of its minute, a keyframe every
    /// 10 s, a pointer input every 7 minutes, an End record after the last second (59:59).</summary>
    public static void WriteHour(string path)
    {
        using var writer = Start(path, "vm-hour", "alice");
        for (var second = 0u; second < 3600; second++)
        {
            var ms = second * 1000;
            if (second % 10 == 0)
            {
                writer.WriteAt(RecordingRecordKind.Keyframe, ms, []);
            }

            writer.WriteAt(RecordingRecordKind.ServerData, ms, FullScreen(MinuteColour((int)(second / 60))));
            if (second % 420 == 5)
            {
                WriteInput(writer, ms + 1, RecordingInputKind.Pointer);
            }
        }

        End(writer, 3599_000);
    }

    /// <summary>Red for 2 s, green for 2 s, blue for 2 s, then the End: each colour one keyframe and one update.</summary>
    public static void WriteRedGreenBlue(string path)
    {
        using var writer = Start(path, "vm-rgb", "bob");
        var colours = new[] { new Rgb(255, 0, 0), new Rgb(0, 255, 0), new Rgb(0, 0, 255) };
        for (var i = 0u; i < colours.Length; i++)
        {
            writer.WriteAt(RecordingRecordKind.Keyframe, i * 2000, []);
            writer.WriteAt(RecordingRecordKind.ServerData, i * 2000, FullScreen(colours[i]));
            WriteInput(writer, (i * 2000) + 500, RecordingInputKind.Key);
        }

        End(writer, 6000);
    }

    /// <summary>A recording whose node died: no End record, and a last record cut in half.</summary>
    public static void WriteCut(string path)
    {
        using (var writer = Start(path, "vm-cut", "carol"))
        {
            writer.WriteAt(RecordingRecordKind.Keyframe, 0, []);
            writer.WriteAt(RecordingRecordKind.ServerData, 0, FullScreen(new Rgb(255, 255, 0)));
            writer.WriteAt(RecordingRecordKind.ServerData, 3000, FullScreen(new Rgb(0, 255, 255)));
        }

        using var file = new FileStream(path, FileMode.Open);
        file.SetLength(file.Length - 100);
    }

    private static RecordingFileWriter Start(string path, string vm, string user)
    {
        var writer = new RecordingFileWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), TimeProvider.System);
        var id = Path.GetFileNameWithoutExtension(path);
        writer.WriteAt(RecordingRecordKind.Metadata, 0, Encoding.UTF8.GetBytes(
            $$"""{"id":"{{id}}","sessionId":"synthetic","vmId":"{{vm}}-id","vmName":"{{vm}}","user":"{{user}}","client":"127.0.0.1","node":"synthetic","start":"2026-12-02T10:00:00+00:00","keyValues":false}"""));
        writer.WriteAt(RecordingRecordKind.ServerInit, 0, ServerInit());
        writer.WriteAt(RecordingRecordKind.ClientSetup, 0, NoVncSetPixelFormat);
        return writer;
    }

    private static void End(RecordingFileWriter writer, uint ms) =>
        writer.WriteAt(RecordingRecordKind.End, ms, """{"code":1000,"reason":"closed by the user"}"""u8);

    private static void WriteInput(RecordingFileWriter writer, uint ms, RecordingInputKind kind)
    {
        var payload = new byte[RecordingInput.Size];
        new RecordingInput(kind, 1, 0, 10, 10).Write(payload);
        writer.WriteAt(RecordingRecordKind.Input, ms, payload);
    }

    /// <summary>ServerInit of a 64x48 screen in the server's own format (big-endian, shifts 16/8/0: not noVNC's).</summary>
    private static byte[] ServerInit()
    {
        var name = "synthetic"u8;
        var bytes = new byte[24 + name.Length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, Width);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), Height);
        byte[] format = [32, 24, 1, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        format.CopyTo(bytes.AsSpan(4));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), (uint)name.Length);
        name.CopyTo(bytes.AsSpan(24));
        return bytes;
    }

    /// <summary>A FramebufferUpdate of one Raw rectangle over the whole screen in <paramref name="colour"/>.</summary>
    private static byte[] FullScreen(Rgb colour)
    {
        var update = new byte[4 + 12 + (Width * Height * 4)];
        update[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(update.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt16BigEndian(update.AsSpan(8), Width);
        BinaryPrimitives.WriteUInt16BigEndian(update.AsSpan(10), Height);
        BinaryPrimitives.WriteInt32BigEndian(update.AsSpan(12), 0);
        for (var at = 16; at < update.Length; at += 4)
        {
            update[at] = (byte)colour.R;
            update[at + 1] = (byte)colour.G;
            update[at + 2] = (byte)colour.B;
        }

        return update;
    }
}
