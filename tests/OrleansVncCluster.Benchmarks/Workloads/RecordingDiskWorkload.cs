using System.Diagnostics;
using System.Globalization;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Issue 14's "disk bytes per minute of a typical desktop session": a 1024x768 Xvnc desktop with a ticking clock
/// (xclock -update 1, its second hand redrawn every second) whose background changes every 20 s (as a window switch
/// would), watched through a node that records every session by a client that asks for updates as noVNC does (the
/// encodings noVNC offers, an incremental request every 100 ms). The recording's size against the bytes the client
/// received over the same session: what recording keeps on disk, and what the stateless encodings recorded sessions are
/// held to cost on the wire.
/// </summary>
internal sealed class RecordingDiskWorkload(BenchOptions options, string workDirectory, string logDirectory, Action<string> log)
{
    private const string Token = "desk-desktop";

    /// <summary>noVNC 1.4's SetEncodings: Tight, ZRLE, Hextile, RRE, CopyRect, Raw and its pseudo-encodings (JPEG and
    /// compression levels, DesktopSize, LastRect, Cursor, ExtendedDesktopSize, ...): the relay keeps the stateless ones.</summary>
    private static readonly int[] NoVncEncodings = [7, 16, 5, 2, 1, 0, -26, -2, -223, -224, -239, -307, -308, -309, -312, -313, -1063131698];

    public async Task<RecordingDiskResult> RunAsync(Func<string, Dictionary<string, string>> recordingEnvironment)
    {
        var duration = options.Quick ? TimeSpan.FromSeconds(15) : TimeSpan.FromSeconds(60);
        var directory = Path.Combine(workDirectory, "recordings-desktop");
        XvncDesktop? desktop = null;
        Process? clock = null;
        RelayPeer? node = null;
        try
        {
            desktop = await XvncDesktop.StartAsync(logDirectory, "1024x768");
            clock = StartOnDisplay(desktop.Display, "xclock", "-update", "1", "-geometry", "240x240+392+264");
            var tokens = Path.Combine(workDirectory, "tokens-desktop.cfg");
            await File.WriteAllTextAsync(tokens, string.Create(CultureInfo.InvariantCulture, $"{Token}: 127.0.0.1:{desktop.Port}\n"));
            node = await RelayPeer.StartAsync(options.RelayPath, tokens, logDirectory, "relay-recorded-desktop", recordingEnvironment(directory), name: "relay-recorded-desktop");
            var endpoint = new RfbEndpoint(node.Endpoint, "", "", relayLogsIn: true);
            using var deadline = new CancellationTokenSource(duration + TimeSpan.FromSeconds(30));
            var connection = await endpoint.ConnectAsync(Token, ConnectionProfile.Bulk, deadline.Token);
            long received = 0;
            var watch = Stopwatch.StartNew();
            using (connection)
            {
                await connection.SendAsync(SetEncodings(), deadline.Token);
                await connection.SendAsync(UpdateRequest(incremental: false), deadline.Token);
                var reading = DrainAsync(connection, deadline.Token, count => received += count);
                string[] backgrounds = ["#2a9d8f", "#264653", "#e9c46a", "#f4a261"];
                var next = 0;
                while (watch.Elapsed < duration)
                {
                    if (watch.Elapsed >= TimeSpan.FromSeconds(20 * next))
                    {
                        await desktop.PaintAsync(backgrounds[next++ % backgrounds.Length]);
                    }

                    await connection.SendAsync(UpdateRequest(incremental: true), deadline.Token);
                    await Task.Delay(100, deadline.Token);
                }

                await connection.CloseAsync();
                await reading;
            }

            var seconds = watch.Elapsed.TotalSeconds;
            var files = await FinishedRecordingsAsync(directory);
            var bytes = files.Sum(f => new FileInfo(f).Length);
            log(Invariant($"recording-disk: {seconds:F0} s of a ticking clock on 1024x768: recording {bytes:N0} bytes ({bytes * 60 / seconds / 1024:F0} KiB/min), client received {received:N0} bytes"));
            return new RecordingDiskResult(seconds, files.Count, bytes, bytes * 60 / seconds, received, received * 60 / seconds, null);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            log($"recording-disk: failed: {exception.Message}");
            return new RecordingDiskResult(0, 0, 0, 0, 0, 0, exception.Message);
        }
        finally
        {
            if (clock is { HasExited: false })
            {
                clock.Kill();
            }

            clock?.Dispose();
            if (node is not null)
            {
                await node.DisposeAsync();
            }

            if (desktop is not null)
            {
                await desktop.DisposeAsync();
            }
        }
    }

    private static Process StartOnDisplay(int display, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["DISPLAY"] = string.Create(CultureInfo.InvariantCulture, $":{display}");
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {program} (apt package x11-apps: scripts/install-deps.sh bench)");
    }

    private static async Task DrainAsync(IBenchConnection connection, CancellationToken cancellationToken, Action<int> received)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await connection.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                received(read);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.Net.WebSockets.WebSocketException or IOException)
        {
            // The session closed under the read: the figure is what arrived until then.
        }
    }

    /// <summary>The recordings in <paramref name="directory"/> once the node has closed them (their sizes no longer move).</summary>
    private static async Task<List<string>> FinishedRecordingsAsync(string directory)
    {
        long last = -1;
        for (var i = 0; i < 50; i++)
        {
            var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.vncrec").ToList() : [];
            var size = files.Sum(f => new FileInfo(f).Length);
            if (files.Count > 0 && size == last)
            {
                return files;
            }

            last = size;
            await Task.Delay(200);
        }

        throw new InvalidOperationException($"no finished recording in {directory}");
    }

    private static byte[] SetEncodings()
    {
        var message = new byte[4 + (4 * NoVncEncodings.Length)];
        message[0] = 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), (ushort)NoVncEncodings.Length);
        for (var i = 0; i < NoVncEncodings.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4 + (4 * i)), NoVncEncodings[i]);
        }

        return message;
    }

    private static byte[] UpdateRequest(bool incremental) => [3, incremental ? (byte)1 : (byte)0, 0, 0, 0, 0, 1024 >> 8, 0, 768 >> 8, 0];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
