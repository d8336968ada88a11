using System.Net.WebSockets;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The browser's WebSocket as a byte stream, for the RFB handshake the relay presents (Rfb/RfbBrowserHandshake works on
/// streams). A read returns at most what was asked, so no byte of the browser's next message is taken from the socket
/// before the forwarder reads it; a write is one binary message, as noVNC expects every server message to arrive.
/// A few lines of our own rather than .NET 10's WebSocketStream, so the three properties this path relies on are in
/// view: reads never take more than asked, each write is one whole binary message, and nothing here closes the socket,
/// which the forwarder owns for the rest of the session.
/// </summary>
internal sealed class WebSocketByteStream(WebSocket socket) : AsyncDuplexStream
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            switch (received.MessageType)
            {
                case WebSocketMessageType.Close:
                    return 0;
                case WebSocketMessageType.Text:
                    throw new IOException("the browser sent a text frame: RFB is binary");
            }

            // An empty binary frame is no end of stream; wait for the next one.
            if (received.Count > 0 || buffer.Length == 0)
            {
                return received.Count;
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        await socket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
}
