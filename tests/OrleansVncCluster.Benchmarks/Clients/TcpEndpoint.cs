using System.Net;
using System.Net.Sockets;

namespace OrleansVncCluster.Benchmarks.Clients;

/// <summary>Raw TCP sessions: a direct connection to a target, or through socat; the logical target picks the port.</summary>
internal sealed class TcpEndpoint(IReadOnlyDictionary<string, int> ports) : IBenchEndpoint
{
    public bool UsesTokens => false;

    public async Task<IBenchConnection> ConnectAsync(string token, ConnectionProfile profile, CancellationToken cancellationToken)
    {
        if (!ports.TryGetValue(token, out var port))
        {
            throw new ArgumentException($"no TCP port for target '{token}': raw TCP peers serve only the logical targets", nameof(token));
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return new TcpConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class TcpConnection(Socket socket) : IBenchConnection
    {
        public async ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
        {
            while (!frame.IsEmpty)
            {
                var sent = await socket.SendAsync(frame, SocketFlags.None, cancellationToken);
                frame = frame[sent..];
            }
        }

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

        public Task CloseAsync()
        {
            try
            {
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset by the far end.
            }

            socket.Dispose();
            return Task.CompletedTask;
        }

        public void Abort()
        {
            try
            {
                // Linger 0 turns the close into an RST, as an aborted WebSocket does.
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }

            socket.Dispose();
        }

        public void Dispose() => socket.Dispose();
    }
}
