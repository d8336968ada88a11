using System.Net;
using System.Net.Sockets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>Dials console targets: TCP (keep-alive, no Nagle) or a Unix socket, within a deadline.</summary>
public sealed class TargetDialer
{
    /// <summary>
    /// Connects to <paramref name="target"/>; throws <see cref="SocketException"/>, <see cref="IOException"/> or
    /// <see cref="OperationCanceledException"/> (the deadline passed or <paramref name="aborted"/> fired). With a
    /// <paramref name="companion"/> (the browser's socket) the new socket shares its socket thread (<see cref="SocketAffinity"/>).
    /// </summary>
    public async Task<NetworkStream> DialAsync(ConsoleTarget target, TimeSpan timeout, CancellationToken aborted, Socket? companion = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(timeout);
        Socket socket;
        if (target.UnixSocket is { } path)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                SocketAffinity.Join(socket, companion);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        else
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                var host = target.Host.Trim('[', ']');
                SocketAffinity.Join(socket, companion);
                if (IPAddress.TryParse(host, out var address))
                {
                    await socket.ConnectAsync(new IPEndPoint(address, target.Port), deadline.Token);
                }
                else
                {
                    await socket.ConnectAsync(host, target.Port, deadline.Token);
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        // Non-blocking, so the pump can take what a zero-byte receive announced without ever waiting on a buffer
        // (SessionPump.TargetToClientAsync); async operations are unaffected. Only after the stream exists: the
        // NetworkStream constructor refuses a non-blocking socket.
        var stream = new NetworkStream(socket, ownsSocket: true);
        socket.Blocking = false;
        return stream;
    }
}
