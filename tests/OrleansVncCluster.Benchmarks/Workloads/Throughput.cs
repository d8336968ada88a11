using System.Diagnostics;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Bulk transfer with 64 KiB frames. Bytes are counted where they land (the sink for uploads, the client for echo and
/// downloads) over a window that starts after a warm-up, so buffers filling up at the start do not count.
/// </summary>
internal static class Throughput
{
    public const string Echo = "echo";
    public const string Upload = "upload";
    public const string Download = "download";

    /// <summary>Echo with 1 KiB messages: the per-message cost (framing, masking, one read and write each way).</summary>
    public const string EchoSmall = "echo-1k";

    public const int SmallFrameBytes = 1024;

    private static readonly byte[] Frame = CreateFrame(TargetServer.ChunkBytes);
    private static readonly byte[] SmallFrame = CreateFrame(SmallFrameBytes);

    /// <summary>The frame size a mode sends.</summary>
    public static int FrameBytesOf(string mode) => mode == EchoSmall ? SmallFrameBytes : TargetServer.ChunkBytes;

    public static async Task<ThroughputResult> RunAsync(Peer peer, TargetSet targets, string mode, int connections,
        TimeSpan warmup, TimeSpan duration, int echoWindowFrames)
    {
        var target = mode switch
        {
            Echo or EchoSmall => TargetNames.Echo,
            Upload => TargetNames.Sink,
            Download => TargetNames.Source,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "echo, upload or download"),
        };

        var open = new List<IBenchConnection>();
        using var connectDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            var connects = Enumerable.Range(0, connections)
                .Select(_ => peer.Endpoint.ConnectAsync(target, ConnectionProfile.Bulk, connectDeadline.Token)).ToList();
            foreach (var connect in connects)
            {
                open.Add(await connect);
            }
        }
        catch (Exception exception)
        {
            Teardown(open);
            return new ThroughputResult(peer.Name, mode, connections, 0, 0, 0, 0, connections, $"connect: {exception.Message}") { FrameBytes = FrameBytesOf(mode) };
        }

        var counter = new ByteCounter();
        using var stop = new CancellationTokenSource();
        var loops = open.Select(connection => mode switch
        {
            Echo => EchoAsync(connection, counter, Frame, echoWindowFrames, stop.Token),
            EchoSmall => EchoAsync(connection, counter, SmallFrame, echoWindowFrames, stop.Token),
            Upload => UploadAsync(connection, stop.Token),
            _ => DownloadAsync(connection, counter, stop.Token),
        }).ToList();

        long Landed() => mode == Upload ? targets.Sink.BytesReceived : counter.Value;

        await Task.Delay(warmup);
        var bytesBefore = Landed();
        var cpuBefore = peer.TreeCpuSeconds();
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var bytes = Landed() - bytesBefore;
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = peer.TreeCpuSeconds() - cpuBefore;

        await stop.CancelAsync();
        Teardown(open);
        var failures = 0;
        string? error = null;
        foreach (var loop in loops)
        {
            var failure = await loop;
            if (failure is not null)
            {
                failures++;
                error ??= failure;
            }
        }

        await WaitForTargetsToEmptyAsync(targets);
        return new ThroughputResult(peer.Name, mode, connections, seconds, bytes, bytes / seconds / (1024 * 1024),
            cpu / seconds * 100, failures, error) { FrameBytes = FrameBytesOf(mode) };
    }

    /// <summary>Waits until the peer has closed every target-side connection, so the next run starts from quiet.</summary>
    public static async Task WaitForTargetsToEmptyAsync(TargetSet targets)
    {
        var deadline = Stopwatch.StartNew();
        while (targets.Open > 0 && deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50);
        }

        if (targets.Open > 0)
        {
            // The next run starts beside connections a peer left open: say so, as a stall here once hid 15 s a round.
            Console.Error.WriteLine($"bench: target connections still open after 15 s (echo {targets.Echo.Open}, sink {targets.Sink.Open}, "
                + $"source {targets.Source.Open}, banner {targets.Banner.Open}); going on");
        }
    }

    private static void Teardown(List<IBenchConnection> connections)
    {
        foreach (var connection in connections)
        {
            connection.Abort();
        }
    }

    private static async Task<string?> UploadAsync(IBenchConnection connection, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await connection.SendAsync(Frame, stop);
            }

            return null;
        }
        catch (Exception exception)
        {
            return stop.IsCancellationRequested ? null : $"upload: {exception.Message}";
        }
    }

    private static async Task<string?> DownloadAsync(IBenchConnection connection, ByteCounter counter, CancellationToken stop)
    {
        var buffer = new byte[TargetServer.ChunkBytes];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var read = await connection.ReceiveAsync(buffer, stop);
                if (read == 0)
                {
                    return "download: the peer closed the session";
                }

                counter.Add(read);
            }

            return null;
        }
        catch (Exception exception)
        {
            return stop.IsCancellationRequested ? null : $"download: {exception.Message}";
        }
    }

    /// <summary>
    /// Round trips with a bounded window: at most <paramref name="window"/> frames are in flight, a new one is sent as
    /// each frame's worth comes back. The bytes counted are the ones that made the whole trip.
    /// </summary>
    private static async Task<string?> EchoAsync(IBenchConnection connection, ByteCounter counter, byte[] frame, int window, CancellationToken stop)
    {
        using var credits = new SemaphoreSlim(window, int.MaxValue);
        var sender = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await credits.WaitAsync(stop);
                await connection.SendAsync(frame, stop);
            }
        }, CancellationToken.None);

        var buffer = new byte[TargetServer.ChunkBytes];
        try
        {
            long pending = 0;
            while (!stop.IsCancellationRequested)
            {
                var read = await connection.ReceiveAsync(buffer, stop);
                if (read == 0)
                {
                    return "echo: the peer closed the session";
                }

                counter.Add(read);
                pending += read;
                while (pending >= frame.Length)
                {
                    pending -= frame.Length;
                    credits.Release();
                }
            }

            return null;
        }
        catch (Exception exception)
        {
            return stop.IsCancellationRequested ? null : $"echo: {exception.Message}";
        }
        finally
        {
            try
            {
                await sender;
            }
            catch (Exception)
            {
                // The sender ends by cancellation or by the abort; the receiver already reported any real failure.
            }
        }
    }

    private static byte[] CreateFrame(int bytes)
    {
        var frame = new byte[bytes];
        Random.Shared.NextBytes(frame);
        return frame;
    }

    private sealed class ByteCounter
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Add(long bytes) => Interlocked.Add(ref _value, bytes);
    }
}
