using System.Buffers;
using System.Net.Sockets;
using System.Net.WebSockets;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The one owner of a live session (as YARP's HttpForwarder owns both directions of an upgraded request): it runs the
/// two-way copy between a browser's WebSocket and a VNC server's stream, ends both sides and returns only an outcome.
/// One task per direction; the first to finish, or a stop asked from outside, decides the outcome; the other is
/// stopped and awaited. Per frame it allocates nothing: pooled buffers, ValueTask-based reads and writes. An idle
/// direction holds no buffer: it waits with a zero-byte read and rents only when data is there, so thousands of quiet
/// consoles cost little memory.
/// <para>
/// Every ending is bounded whatever the peers do. Unless the VNC server ended the session itself, its socket is shut
/// first, so no more of the browser's input reaches the VM; then the close handshake gets <see cref="CloseTimeout"/>
/// in all (including waiting for a send stuck on a browser that stopped reading); then the WebSocket is aborted. A
/// send to the browser carries no deadline of its own because ManagedWebSocket aborts the whole socket when a pending
/// send or receive is cancelled, which would make a close frame impossible in the common case.
/// </para>
/// </summary>
public sealed class SessionForwarder(TimeProvider time)
{
    /// <summary>How long the close of a session may take, from its end to the WebSocket's abort.</summary>
    public static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The code recorded when the browser's connection broke (ended without a close frame, or with a WebSocket
    /// protocol error): RFC 6455 section 7.1.5's 1006, which a browser reports for such an ending itself; never sent.</summary>
    public const int BrowserLostCode = 1006;

    /// <summary>The reason recorded when the browser's connection broke.</summary>
    public const string BrowserLostText = "the browser's connection broke";

    /// <summary>The reason recorded when the browser closed the session with a close frame that gave none.</summary>
    public const string BrowserClosedText = "closed by the browser";

    /// <summary>
    /// Relays until one side ends or <paramref name="session"/> is asked to stop, then closes both sides. Never throws for
    /// I/O failures: they become outcomes. On return the target is closed and the WebSocket closed or aborted.
    /// </summary>
    /// <param name="client">The browser's WebSocket.</param>
    /// <param name="target">The dialled connection to the VNC server; this method shuts it.</param>
    /// <param name="session">The session, its counters and its stop request.</param>
    /// <param name="options">The relay's settings.</param>
    /// <param name="loggedIn">When the relay logged in itself and the session runs inside TLS: the TLS stream over
    /// <paramref name="target"/>; null relays on <paramref name="target"/> directly, whether logged in or not.</param>
    /// <param name="filter">When a policy applies to what the browser sends (a view-only session): the filter every
    /// browser byte passes through; null forwards the browser's bytes as they come.</param>
    /// <param name="reader">When a policy applies to what the VNC server sends (a clipboard policy towards the browser):
    /// the reader every server byte passes through; null keeps that direction an opaque copy.</param>
    /// <param name="recorder">When the session is recorded: what each direction forwarded is handed to it (it then has a
    /// <paramref name="filter"/> and a <paramref name="reader"/>, whose policy tells it of every message).</param>
    /// <param name="frames">The connection under <paramref name="client"/> when the server's bytes may be framed in place
    /// (<see cref="BrowserFrameStream"/>); null sends them through <paramref name="client"/>.</param>
    public async Task<SessionOutcome> ForwardAsync(
        WebSocket client, NetworkStream target, RelaySession session, RelayOptions options, Stream? loggedIn = null, RfbClientMessageFilter? filter = null,
        RfbServerMessageReader? reader = null, SessionRecorder? recorder = null, BrowserFrameStream? frames = null)
    {
        var clientReader = ClientToTargetAsync(client, loggedIn ?? target, session, options.MaxMessageBytes, filter, recorder);

        // Without TLS the fast socket path stays, logged in or not: after ServerInit the server's bytes are opaque, unless
        // a policy needs their message boundaries.
        var targetReader = loggedIn is null && reader is null
            ? TargetToClientAsync(target.Socket, client, frames, session)
            : TargetStreamToClientAsync(loggedIn ?? target, client, session, reader, recorder);

        var first = await Task.WhenAny(clientReader, targetReader, session.StopRequested);
        var targetFinishedFirst = targetReader.IsCompleted;
        using var deadline = new CancellationTokenSource(CloseTimeout, time);
        SessionOutcome outcome;
        if (targetFinishedFirst)
        {
            outcome = await targetReader;
        }
        else
        {
            // The browser side ended or a stop was asked: the VNC server hears nothing more from this session. The
            // shutdown also ends the target reader's pending read (a read on a shut socket completes at once with
            // nothing), and what the reader then reports is not used: the outcome is the browser's or the stop's.
            // Cancelling that read instead would throw an exception in every session that ends this way
            // (docs/benchmarks.md).
            ShutDown(target);

            // The target reader may be stuck in a send to a browser that stopped reading: give it the close budget,
            // then abort the WebSocket, which fails that send, and close the socket, which fails any read still pending.
            if (!await FinishesAsync(targetReader, deadline.Token))
            {
                client.Abort();
                target.Dispose();
            }

            await targetReader;
            outcome = first == clientReader ? await clientReader : SessionOutcome.Stopped;
        }

        target.Dispose();

        if (outcome == SessionOutcome.ClientFailed)
        {
            // The browser's reader may still be sending the close frame of a protocol error (1002) it just saw, while
            // the other direction already failed on the closing socket: aborting now would lose that frame (the
            // hostile-input battery caught it); it ends at once either way.
            await FinishesAsync(clientReader, deadline.Token);
            client.Abort();
            session.Ended = (BrowserLostCode, BrowserLostText);
            return outcome;
        }

        var (status, reason) = CloseFor(outcome, session, options);
        session.Ended = await CloseAsync(client, status, reason, clientReader, deadline.Token);
        return outcome;
    }

    /// <summary>The close code and reason the browser gets for an outcome.</summary>
    public static (WebSocketCloseStatus Status, string Reason) CloseFor(SessionOutcome outcome, RelaySession session, RelayOptions options) => outcome switch
    {
        SessionOutcome.TargetClosed => (CloseReasons.TargetClosed, CloseReasons.TargetClosedText),
        SessionOutcome.TargetFailed => (CloseReasons.TargetFailed, CloseReasons.TargetLostText),
        SessionOutcome.TextFrame => (CloseReasons.TextFrame, CloseReasons.TextFrameText),
        SessionOutcome.TooBig => (CloseReasons.TooBig, $"message larger than {options.MaxMessageBytes} bytes"),
        SessionOutcome.RfbViolation => (CloseReasons.RfbViolation, session.ProtocolError ?? CloseReasons.RfbViolationText),
        SessionOutcome.Stopped when session.StopReason is { } stop => stop,
        _ => (WebSocketCloseStatus.NormalClosure, "session closed"),
    };

    /// <summary>
    /// Refuses a session that never relayed: sends the close frame and waits briefly for the browser's answer, then the
    /// connection may drop. Bounded by <see cref="CloseTimeout"/>.
    /// </summary>
    public async Task RefuseAsync(WebSocket client, WebSocketCloseStatus status, string reason)
    {
        using var deadline = new CancellationTokenSource(CloseTimeout, time);
        await CloseAsync(client, status, reason, clientReader: null, deadline.Token);
    }

    /// <summary>Shuts the VNC socket without closing it, so the server sees the end at once even while a read or a write
    /// of ours is pending (disposing the stream, which owns the socket, shuts it the same way first).</summary>
    private static void ShutDown(NetworkStream target)
    {
        try
        {
            target.Socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by us.
        }
    }

    private static async Task<bool> FinishesAsync(Task task, CancellationToken deadline)
    {
        try
        {
            await task.WaitAsync(deadline);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends our close frame and waits for the browser's answer until <paramref name="deadline"/>; then aborts. Returns
    /// the code and reason the session ended with, for the history: the browser's own when it closed first (echoed),
    /// ours as fitted into the frame (even when the browser never read it: the relay's decision is what the history
    /// keeps), or 1006 when the browser's connection was already gone.
    /// </summary>
    private static async Task<(int Code, string Reason)> CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason, Task? clientReader, CancellationToken deadline)
    {
        var fitted = CloseReasonText.Fit(reason);
        try
        {
            if (socket.State == WebSocketState.CloseReceived)
            {
                // The browser closed first: echo its code (RFC 6455 section 5.5.1), as websockify does.
                var echoed = socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure;
                var said = socket.CloseStatusDescription;
                await socket.CloseOutputAsync(echoed, said, deadline);
                return ((int)echoed, string.IsNullOrEmpty(said) ? BrowserClosedText : said);
            }

            if (socket.State != WebSocketState.Open)
            {
                return (BrowserLostCode, BrowserLostText);
            }

            // A cancelled send aborts the socket: exactly what the deadline should do to a browser that does not read.
            // Every reason is fitted here, the one place close frames are sent: a longer one would throw.
            await socket.CloseOutputAsync(status, fitted, deadline);
            clientReader ??= DrainUntilCloseAsync(socket);
            if (!await FinishesAsync(clientReader, deadline))
            {
                socket.Abort();
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            socket.Abort();
        }

        return ((int)status, fitted);
    }

    private static async Task DrainUntilCloseAsync(WebSocket socket)
    {
        var scratch = new byte[256];
        while (socket.State == WebSocketState.CloseSent)
        {
            var result = await socket.ReceiveAsync(scratch, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The browser-to-server copy. Frames that are already at hand when one has been read are gathered and written to the
    /// VNC server together: a browser sends input in bursts (a key's down and up, a stream of pointer moves), and each
    /// write is a system call and a wake-up of the server, which cost more than the bytes. Nothing waits to be gathered:
    /// the moment the next frame is not there yet, what was gathered goes. With a filter each frame is written as it
    /// comes, since the filter works in the buffer's headroom frame by frame.
    /// </summary>
    private static async Task<SessionOutcome> ClientToTargetAsync(
        WebSocket client, Stream target, RelaySession session, int maxMessageBytes, RfbClientMessageFilter? filter, SessionRecorder? recorder)
    {
        // The filter puts a message header held back from the previous frame in front of the next one, in the same
        // buffer: leave it that room, so filtering allocates nothing either.
        var offset = filter is null ? 0 : RfbClientMessageFilter.Headroom;
        byte[]? buffer = null;
        // Gathered and not yet written: buffer[start..start + gathered].
        var (start, gathered) = (0, 0);
        long messageBytes = 0;
        try
        {
            while (true)
            {
                // Wait for the next frame without holding a buffer; while it is at hand, keep the buffer and what it holds.
                var next = client.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (!next.IsCompletedSuccessfully)
                {
                    if (!await FlushAsync())
                    {
                        return SessionOutcome.TargetFailed;
                    }

                    ReturnBuffer();
                }

                var peek = await next;
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    return await EndAsync(SessionOutcome.ClientClosed);
                }

                buffer ??= ArrayPool<byte>.Shared.Rent(offset + RelayOptions.BufferBytes);
                start = gathered == 0 ? 0 : start;
                var room = buffer.Length - offset - start - gathered;

                // ManagedWebSocket waits until the buffer is full or the frame ends: never ask for more than one byte past
                // the limit, so a frame header announcing a huge length is refused as soon as that byte arrives instead
                // of the session hanging on a buffer the sender never fills (the hostile-input battery found this).
                var wanted = (int)Math.Min(room, maxMessageBytes - messageBytes + 1);
                // When the rest of a frame is still on its way, what was gathered does not wait for it: it is written
                // now, and the frame lands where it was asked to, which is then the start.
                var receiving = client.ReceiveAsync(buffer.AsMemory(offset + start + gathered, wanted), CancellationToken.None);
                if (!receiving.IsCompleted && !await FlushAsync())
                {
                    return SessionOutcome.TargetFailed;
                }

                var received = await receiving;
                if (received.MessageType != WebSocketMessageType.Binary)
                {
                    return await EndAsync(received.MessageType == WebSocketMessageType.Close ? SessionOutcome.ClientClosed : SessionOutcome.TextFrame);
                }

                messageBytes += received.Count;
                if (messageBytes > maxMessageBytes)
                {
                    return await EndAsync(SessionOutcome.TooBig);
                }

                if (received.EndOfMessage)
                {
                    messageBytes = 0;
                }

                if (filter is null)
                {
                    gathered += received.Count;
                    if (start + gathered == buffer.Length && !await FlushAsync())
                    {
                        return SessionOutcome.TargetFailed;
                    }

                    continue;
                }

                var (from, count, error) = received.Count > 0 ? filter.Filter(buffer, received.Count) : new RfbFilterResult(offset, 0, null);
                if (count > 0)
                {
                    recorder?.BrowserForwarded(buffer.AsSpan(from, count));
                    if (!await WriteAsync(target, buffer.AsMemory(from, count), session))
                    {
                        return SessionOutcome.TargetFailed;
                    }
                }

                if (error is not null)
                {
                    // An unknown message has no known length: whatever follows would be read out of step (docs/RFB.md).
                    session.ProtocolError = error;
                    return SessionOutcome.RfbViolation;
                }
            }
        }
        catch (Exception exception) when (IsIoFailure(exception))
        {
            // What the browser sent before its connection broke still reaches the server, as it would have frame by frame.
            await FlushAsync();
            return SessionOutcome.ClientFailed;
        }
        finally
        {
            ReturnBuffer();
        }

        // Ends the session with the outcome once what was gathered is written (or with the server's failure).
        async ValueTask<SessionOutcome> EndAsync(SessionOutcome outcome) => await FlushAsync() ? outcome : SessionOutcome.TargetFailed;

        async ValueTask<bool> FlushAsync()
        {
            if (gathered == 0)
            {
                return true;
            }

            recorder?.BrowserForwarded(buffer.AsSpan(start, gathered));
            var written = await WriteAsync(target, buffer.AsMemory(start, gathered), session);
            (start, gathered) = (start + gathered, 0);
            return written;
        }

        void ReturnBuffer()
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
    }

    /// <summary>Writes to the VNC server and counts what went; false when the server's side failed.</summary>
    private static async ValueTask<bool> WriteAsync(Stream target, ReadOnlyMemory<byte> bytes, RelaySession session)
    {
        try
        {
            await target.WriteAsync(bytes, CancellationToken.None);
        }
        catch (Exception exception) when (IsIoFailure(exception))
        {
            return false;
        }

        session.AddToTarget(bytes.Length);
        return true;
    }

    /// <summary>The server-to-browser copy inside TLS, or of a session whose server messages the relay reads: the same
    /// pattern as the socket path (a zero-byte read while idle, one binary frame per read), on the stream, since TLS
    /// records must be decrypted by SslStream. With a <paramref name="reader"/> (Rfb/RfbServerMessageReader) each read
    /// lands at <see cref="RfbServerMessageReader.Headroom"/> so that the reader works in the same pooled buffer, the
    /// frame carries what it leaves (none when it leaves nothing), and a server message it cannot walk ends the session
    /// with its reason.</summary>
    private static async Task<SessionOutcome> TargetStreamToClientAsync(
        Stream target, WebSocket client, RelaySession session, RfbServerMessageReader? reader, SessionRecorder? recorder)
    {
        var offset = reader is null ? 0 : RfbServerMessageReader.Headroom;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    // SslStream completes a zero-byte read when decrypted data is there, without a buffer of ours.
                    _ = await target.ReadAsync(Memory<byte>.Empty);
                    buffer = ArrayPool<byte>.Shared.Rent(offset + RelayOptions.BufferBytes);
                }

                var room = buffer.Length - offset;
                var read = await target.ReadAsync(buffer.AsMemory(offset, room));
                if (read == 0)
                {
                    return SessionOutcome.TargetClosed;
                }

                var (start, count, error) = reader?.Filter(buffer, read) ?? new RfbFilterResult(0, read, null);
                if (count > 0)
                {
                    recorder?.ServerForwarded(buffer.AsSpan(start, count));
                    try
                    {
                        await client.SendAsync(buffer.AsMemory(start, count), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    }
                    catch (Exception exception) when (IsIoFailure(exception))
                    {
                        return SessionOutcome.ClientFailed;
                    }

                    session.AddToClient(count);
                }

                if (error is not null)
                {
                    session.ProtocolError = error;
                    return SessionOutcome.RfbViolation;
                }

                if (read < room)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
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

    /// <summary>The server-to-browser copy of an opaque session on the socket. With <paramref name="frames"/> each read lands
    /// behind <see cref="BrowserFrameStream.Headroom"/> and goes out as a frame from the same buffer, copied by nobody on
    /// the way to Kestrel.</summary>
    private static async Task<SessionOutcome> TargetToClientAsync(Socket target, WebSocket client, BrowserFrameStream? frames, RelaySession session)
    {
        var offset = frames is null ? 0 : BrowserFrameStream.Headroom;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                int read;
                if (buffer is null)
                {
                    // Wait for data (or EOF) with a zero-byte receive: a quiet console holds no buffer.
                    await target.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                    buffer = ArrayPool<byte>.Shared.Rent(RelayOptions.BufferBytes);

                    // Take only what is there now. The zero-byte receive can complete with nothing to read (seen on most
                    // sockets whose server spoke first: docs/benchmarks.md), and an awaited read would then pin this
                    // buffer for as long as the console stays quiet. The socket is non-blocking, so this never waits.
                    read = target.Receive(buffer, offset, buffer.Length - offset, SocketFlags.None, out var error);
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
                    read = await target.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None);
                }

                if (read == 0)
                {
                    return SessionOutcome.TargetClosed;
                }

                try
                {
                    // One binary frame per target read, as websockify sends them.
                    if (frames is null)
                    {
                        await client.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
                    }
                    else if (!await frames.WriteBinaryAsync(buffer, read))
                    {
                        return SessionOutcome.ClientFailed;
                    }
                }
                catch (Exception exception) when (IsIoFailure(exception))
                {
                    return SessionOutcome.ClientFailed;
                }

                session.AddToClient(read);
                if (offset + read < buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
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
