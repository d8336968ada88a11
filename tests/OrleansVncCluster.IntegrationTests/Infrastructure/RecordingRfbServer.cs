using System.Net;
using System.Text;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// A fake VNC server: RFB 3.8 with security type None, a 64x48 ServerInit named "fake" (32 bits per pixel), then it
/// records every byte the client sends and sends only what a test gives it (<see cref="SendAsync"/>: framebuffer
/// updates, ServerCutText). It shows exactly what reached the VNC server through the relay.
/// </summary>
public sealed class RecordingRfbServer : IAsyncDisposable
{
    private readonly TcpTarget _target;
    private readonly List<byte> _received = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly TaskCompletionSource<Stream> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Listens on a free port of <paramref name="address"/> (loopback by default).</summary>
    public RecordingRfbServer(IPAddress? address = null) => _target = TcpTarget.Custom(ServeAsync, address);

    public int Port => _target.Port;

    /// <summary>Every byte received after ClientInit, over all connections, in arrival order.</summary>
    public byte[] Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>Waits until the bytes received end with <paramref name="suffix"/>.</summary>
    public async Task WaitForSuffixAsync(byte[] suffix, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (!Received.AsSpan().EndsWith(suffix))
        {
            try
            {
                await _arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the fake VNC server did not receive [{string.Join(',', suffix)}] within {timeout}; it has [{string.Join(',', Received)}]");
            }
        }
    }

    /// <summary>Sends <paramref name="bytes"/> to the client on the first connection that got its ServerInit.</summary>
    public async Task SendAsync(byte[] bytes, TimeSpan timeout)
    {
        var stream = await _connected.Task.WaitAsync(timeout);
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    /// <summary>Waits until the bytes received from offset <paramref name="from"/> on contain <paramref name="sequence"/>.</summary>
    public async Task WaitForSequenceAsync(byte[] sequence, int from, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (Received.AsSpan(Math.Min(from, Received.Length)).IndexOf(sequence) < 0)
        {
            try
            {
                await _arrived.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the fake VNC server did not receive [{string.Join(',', sequence)}] after byte {from} within {timeout}; it has [{string.Join(',', Received)}]");
            }
        }
    }

    private async Task ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        await stream.ReadExactlyAsync(new byte[12], cancellationToken);
        await stream.WriteAsync(new byte[] { 1, 1 }, cancellationToken);
        await stream.ReadExactlyAsync(new byte[1], cancellationToken);
        await stream.WriteAsync(new byte[4], cancellationToken);
        await stream.ReadExactlyAsync(new byte[1], cancellationToken); // ClientInit
        byte[] pixelFormat = [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0];
        var name = Encoding.ASCII.GetBytes("fake");
        _connected.TrySetResult(stream);
        await stream.WriteAsync((byte[])[0, 64, 0, 48, .. pixelFormat, 0, 0, 0, (byte)name.Length, .. name], cancellationToken);
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            lock (_received)
            {
                _received.AddRange(buffer.AsSpan(0, read));
            }

            _arrived.Release();
        }
    }

    public ValueTask DisposeAsync() => _target.DisposeAsync();
}
