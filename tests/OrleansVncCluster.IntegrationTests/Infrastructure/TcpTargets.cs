using System.Net;
using System.Net.Sockets;

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>A TCP server on a free port (of loopback unless given another address) that runs the serve callback for each connection.</summary>
public sealed class TcpTarget : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _accepted;

    private TcpTarget(Func<NetworkStream, CancellationToken, Task> serve, IPAddress? address = null)
    {
        Address = address ?? IPAddress.Loopback;
        _listener = new TcpListener(Address, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(serve);
    }

    public IPAddress Address { get; }

    public int Port { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Echoes every byte back; listens on <paramref name="address"/> (loopback by default).</summary>
    public static TcpTarget Echo(IPAddress? address = null) => new(async (stream, ct) =>
    {
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }, address);

    /// <summary>Sends <paramref name="banner"/> then closes.</summary>
    public static TcpTarget SendAndClose(byte[] banner) => new(async (stream, ct) => await stream.WriteAsync(banner, ct));

    /// <summary>Runs custom logic per connection.</summary>
    public static TcpTarget Custom(Func<NetworkStream, CancellationToken, Task> serve, IPAddress? address = null) => new(serve, address);

    private async Task AcceptAsync(Func<NetworkStream, CancellationToken, Task> serve)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await serve(client.GetStream(), _stop.Token);
                    }
                    catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                        // The relay closed the connection: expected in close tests.
                    }
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>Writes a websockify token file.</summary>
public static class TokenFiles
{
    public static string Write(string directory, params (string Token, string Target)[] entries)
    {
        var path = Path.Combine(directory, "tokens.cfg");
        Rewrite(path, entries);
        return path;
    }

    /// <summary>Replaces the file atomically (rename), as the legacy cron job did.</summary>
    public static void Rewrite(string path, params (string Token, string Target)[] entries)
    {
        var temp = path + ".tmp";
        File.WriteAllLines(temp, entries.Select(e => $"{e.Token}: {e.Target}"));
        File.Move(temp, path, overwrite: true);
    }
}
