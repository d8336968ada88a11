using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The two-way copy between a browser's WebSocket and a VNC server's stream: one task per direction, the first to
/// finish decides the outcome, the other is stopped and awaited (the shape of YARP's upgraded-connection forwarding).
/// Per frame it allocates nothing: pooled buffers, ValueTask-based reads and writes. An idle direction holds no buffer:
/// it waits with a zero-byte read and rents only when data is there, so thousands of quiet consoles cost little memory.
/// </summary>
internal static class SessionPump
{
    /// <summary>
    /// Relays until one side ends or <paramref name="session"/> is asked to stop. Never throws for I/O failures: they
    /// become outcomes. On return the target-reading direction has stopped; the WebSocket is still open for the close.
    /// </summary>
    public static async Task<(SessionOutcome Outcome, Task ClientReader)> RunAsync(
        WebSocket client, NetworkStream target, RelaySession session, RelayOptions options)
    {
        using var stopTargetRead = new CancellationTokenSource();

        // ManagedWebSocket aborts the whole socket when a pending receive or send is cancelled, which would make a close
        // frame impossible; so WebSocket calls take no token and the browser's reader is ended by the close handshake.
        var clientReader = ClientToTargetAsync(client, target, session, options.MaxMessageBytes);
        var targetReader = TargetToClientAsync(target.Socket, client, session, stopTargetRead.Token);

        var first = await Task.WhenAny(clientReader, targetReader, session.StopRequested);
        if (first == targetReader)
        {
            return (await targetReader, clientReader);
        }

        // The browser side ended or a stop was asked: stop reading the target so no send races the close frame.
        await stopTargetRead.CancelAsync();
        var targetOutcome = await targetReader;
        if (first == clientReader)
        {
            return (await clientReader, clientReader);
        }

        // A stop won, unless the target had already finished on its own in the meantime.
        return (targetOutcome == SessionOutcome.Stopped ? SessionOutcome.Stopped : targetOutcome, clientReader);
    }

    private static async Task<SessionOutcome> ClientToTargetAsync(WebSocket client, NetworkStream target, RelaySession session, int maxMessageBytes)
    {
        byte[]? buffer = null;
        long messageBytes = 0;
        try
        {
            while (true)
            {
                // Wait for the next frame without holding a buffer.
                var peek = await client.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return SessionOutcome.ClientClosed;
                }

                buffer ??= ArrayPool<byte>.Shared.Rent(RelayOptions.BufferBytes);

                // ManagedWebSocket waits until the buffer is full or the frame ends: never ask for more than one byte past
                // the limit, so a frame header announcing a huge length is refused as soon as that byte arrives instead
                // of the session hanging on a buffer the sender never fills (the hostile-input battery found this).
                var wanted = (int)Math.Min(buffer.Length, maxMessageBytes - messageBytes + 1);
                var received = await client.ReceiveAsync(buffer.AsMemory(0, wanted), CancellationToken.None);
                switch (received.MessageType)
                {
                    case WebSocketMessageType.Close:
                        return SessionOutcome.ClientClosed;
                    case WebSocketMessageType.Text:
                        return SessionOutcome.TextFrame;
                }

                messageBytes += received.Count;
                if (messageBytes > maxMessageBytes)
                {
                    return SessionOutcome.TooBig;
                }

                if (received.EndOfMessage)
                {
                    messageBytes = 0;
                }

                if (received.Count > 0)
                {
                    try
                    {
                        await target.WriteAsync(buffer.AsMemory(0, received.Count), CancellationToken.None);
                    }
                    catch (Exception exception) when (IsIoFailure(exception))
                    {
                        return SessionOutcome.TargetFailed;
                    }

                    session.AddToTarget(received.Count);
                }

                // Give the buffer back while the client is quiet; keep it only mid-burst.
                if (received.Count < buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception exception) when (IsIoFailure(exception))
        {
            return SessionOutcome.ClientFailed;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static async Task<SessionOutcome> TargetToClientAsync(Socket target, WebSocket client, RelaySession session, CancellationToken stop)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                int read;
                if (buffer is null)
                {
                    // Wait for data (or EOF) with a zero-byte receive: a quiet console holds no buffer.
                    await target.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, stop);
                    buffer = ArrayPool<byte>.Shared.Rent(RelayOptions.BufferBytes);

                    // Take only what is there now. The zero-byte receive can complete with nothing to read (seen on most
                    // sockets whose server spoke first: docs/benchmarks.md), and an awaited read would then pin this
                    // buffer for as long as the console stays quiet. The socket is non-blocking, so this never waits.
                    read = target.Receive(buffer, SocketFlags.None, out var error);
                    if (error == SocketError.WouldBlock)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                        continue;
                    }

                    if (error != SocketError.Success)
                    {
                        throw new SocketException((int)error);
                    }
                }
                else
                {
                    // The last read filled the buffer: more is on its way, so keep the buffer for it.
                    read = await target.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, stop);
                }

                if (read == 0)
                {
                    return SessionOutcome.TargetClosed;
                }

                try
                {
                    // One binary frame per target read, as websockify sends them.
                    await client.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                }
                catch (Exception exception) when (IsIoFailure(exception))
                {
                    return SessionOutcome.ClientFailed;
                }

                session.AddToClient(read);
                if (read < buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return SessionOutcome.Stopped;
        }
        catch (Exception exception) when (IsIoFailure(exception))
        {
            return SessionOutcome.TargetFailed;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static bool IsIoFailure(Exception exception) =>
        exception is IOException or SocketException or WebSocketException or ObjectDisposedException or OperationCanceledException;
}
