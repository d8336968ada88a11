using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// One playback connection: a tiny RFB server (RFC 6143) whose screen is a recording. It greets the browser as the relay
/// does (version, security None, the recorded ServerInit: <see cref="RfbBrowserHandshake"/>), checks that the browser
/// asks for the pixel format the recording is encoded in, then sends the recorded server data from the last keyframe at
/// or before the asked moment: as fast as the socket takes it up to that moment, then in real time times the speed, or
/// not at all when paused. What the browser sends afterwards (update requests, fences) is read and dropped: the
/// recording answers nothing. It reads one record ahead of the socket, never the file.
/// </summary>
public sealed class RecordingPlayer(TimeProvider time)
{
    /// <summary>The close reason when the recording was played to its last record.</summary>
    public const string EndOfRecording = "end of recording";

    /// <summary>Close code of a browser whose pixel format is not the recording's (RFC 6143 has no message for it).</summary>
    public const WebSocketCloseStatus PixelFormatRefused = (WebSocketCloseStatus)4415;

    /// <summary>Close code when a connection lived <see cref="PlaybackOptions.MaxPlayerLifetime"/>.</summary>
    public const WebSocketCloseStatus LifetimeReached = (WebSocketCloseStatus)4408;

    private const int SendBatchBytes = 64 * 1024;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private const int SetPixelFormatLength = 20;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Plays <paramref name="file"/> (indexed by <paramref name="index"/>) on <paramref name="socket"/> as
    /// <paramref name="request"/> asks, until the recording ends, the browser leaves or <paramref name="cancellationToken"/>
    /// fires; returns how it ended, for the close frame the caller sends.</summary>
    public async Task<PlaybackOutcome> PlayAsync(WebSocket socket, Stream file, RecordingIndex index, PlaybackRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(request);
        var browser = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: false);
        var keyframe = index.KeyframeAt(request.AtMs);
        var greeting = await new RfbBrowserHandshake(HandshakeTimeout, time).RunAsync(browser, new RfbServerInit(index.ServerInitAt(keyframe), ""), cancellationToken);
        if (!greeting.Succeeded)
        {
            return new PlaybackOutcome(WebSocketCloseStatus.ProtocolError, greeting.Reason, Played: false);
        }

        if (await CheckPixelFormatAsync(browser, index.PixelFormatAt(keyframe.Offset), cancellationToken) is { } refused)
        {
            return refused;
        }

        // The drain reads until the browser's close and then stops the stream; it is never cancelled while the socket
        // may still close cleanly, because cancelling a pending receive aborts a .NET WebSocket (the browser would see
        // 1006 instead of the reason).
        using var left = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var abortDrain = new CancellationTokenSource();
        var drain = DrainAsync(socket, left, abortDrain.Token);
        PlaybackOutcome outcome;
        try
        {
            outcome = await StreamAsync(socket, file, keyframe, request, left.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            outcome = new PlaybackOutcome(WebSocketCloseStatus.NormalClosure, "the browser left", Played: true);
        }
        catch (OperationCanceledException)
        {
            outcome = new PlaybackOutcome(LifetimeReached, "playback connection lifetime reached (Recording:MaxPlayerLifetime): reconnect to go on", Played: true);
        }

        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var closing = new CancellationTokenSource(CloseTimeout, time);
                await socket.CloseOutputAsync(outcome.Status, CloseReasonText.Fit(outcome.Reason), closing.Token);
            }

            await drain.WaitAsync(CloseTimeout, time);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException or WebSocketException or IOException)
        {
            // The browser does not answer the close: give up on it.
        }
        finally
        {
            await abortDrain.CancelAsync();
            await drain;
        }

        return outcome;
    }

    /// <summary>noVNC's first message after ServerInit is its SetPixelFormat. Recorded server data is encoded in the pixel
    /// format the recorded browser asked for; a browser asking for another would draw garbage, so it is refused with a
    /// reason instead.</summary>
    private static async Task<PlaybackOutcome?> CheckPixelFormatAsync(Stream browser, ReadOnlyMemory<byte> recorded, CancellationToken cancellationToken)
    {
        var message = new byte[SetPixelFormatLength];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(HandshakeTimeout);
        try
        {
            await browser.ReadExactlyAsync(message, deadline.Token);
        }
        catch (Exception exception) when (exception is EndOfStreamException or OperationCanceledException or IOException or WebSocketException)
        {
            return new PlaybackOutcome(WebSocketCloseStatus.ProtocolError, "the browser did not send its pixel format", Played: false);
        }

        // Bytes 4 to 16 of the message are the format's fields; its last three are padding (RFC 6143 section 7.4).
        if (message[0] != 0 || !message.AsSpan(4, 13).SequenceEqual(recorded.Span[..13]))
        {
            return new PlaybackOutcome(PixelFormatRefused,
                $"recorded in {Describe(recorded.Span)}, the client asked for {(message[0] == 0 ? Describe(message.AsSpan(4)) : "none")}",
                Played: false);
        }

        return null;
    }

    private async Task<PlaybackOutcome> StreamAsync(WebSocket socket, Stream file, RecordingKeyframe keyframe, PlaybackRequest request, CancellationToken cancellationToken)
    {
        var reader = RecordingFileReader.OpenAt(file, keyframe.Offset);
        var batch = ArrayPool<byte>.Shared.Rent(SendBatchBytes);
        var pending = 0;
        long? caughtUp = null;
        try
        {
            while (reader.TryReadNext(out var record))
            {
                if (record.Kind is not (RecordingRecordKind.ServerData or RecordingRecordKind.End))
                {
                    continue;
                }

                if (record.TimeMs > request.AtMs)
                {
                    // The asked moment is reached: show it before waiting for what comes after. Real time starts now.
                    caughtUp ??= time.GetTimestamp();
                    await SendAsync(socket, batch.AsMemory(0, pending), cancellationToken);
                    pending = 0;
                    if (request.Paused)
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
                    }

                    var due = TimeSpan.FromMilliseconds((record.TimeMs - request.AtMs) / (double)request.Speed);
                    var wait = due - time.GetElapsedTime(caughtUp.Value);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, time, cancellationToken);
                    }
                }

                // The session ended at the End record's time, not at its last screen data: the last screen stays that long.
                if (record.Kind == RecordingRecordKind.End)
                {
                    break;
                }

                var payload = record.Payload;
                if (pending + payload.Length > batch.Length)
                {
                    await SendAsync(socket, batch.AsMemory(0, pending), cancellationToken);
                    pending = 0;
                }

                if (payload.Length > batch.Length)
                {
                    await SendAsync(socket, payload, cancellationToken);
                }
                else
                {
                    payload.CopyTo(batch.AsMemory(pending));
                    pending += payload.Length;
                }
            }

            await SendAsync(socket, batch.AsMemory(0, pending), cancellationToken);
            if (request.Paused)
            {
                // Paused at or past the end: the page shows the last screen until it asks for another moment.
                await Task.Delay(Timeout.InfiniteTimeSpan, time, cancellationToken);
            }

            return new PlaybackOutcome(WebSocketCloseStatus.NormalClosure, EndOfRecording, Played: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    private static async Task SendAsync(WebSocket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (!bytes.IsEmpty)
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
    }

    /// <summary>Reads and drops what the browser sends until it closes, then cancels <paramref name="left"/>: a page that
    /// seeks closes this connection, and its player must stop at once.</summary>
    private static async Task DrainAsync(WebSocket socket, CancellationTokenSource left, CancellationToken abort)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(scratch.AsMemory(), abort);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException)
        {
            // The browser left or the player is done; either way nothing more is read.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            await left.CancelAsync();
        }
    }

    private static string Describe(ReadOnlySpan<byte> format) =>
        $"{format[0]} bpp depth {format[1]} {(format[2] != 0 ? "big" : "little")}-endian {(format[3] != 0 ? "true colour" : "colour map")}";
}
