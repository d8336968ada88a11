using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>
/// The public face of playback: <c>GET RELAYPATH/playback?ticket=vp1...&amp;at=MS&amp;speed=S&amp;paused=0|1</c>, the
/// WebSocket a page's noVNC connects to (a <see cref="RecordingPlayer"/> each), and <c>GET /console/playback/info?ticket=</c>,
/// what the page's seek bar needs. Both take only a playback ticket (<see cref="PlaybackText"/>), which names the one
/// recording it opens; the recording's bytes go nowhere else. Refusals after the upgrade are close frames with a reason,
/// since a browser cannot read the status of a refused upgrade.
/// </summary>
public sealed partial class PlaybackEndpoint(
    IRecordingFiles files,
    RecordingIndexCache indexes,
    RecordingPlayer player,
    TicketKeyRing keys,
    IOptionsMonitor<PlaybackOptions> options,
    TimeProvider time,
    ILogger<PlaybackEndpoint> logger)
{
    /// <summary>Close code of a playback ticket that does not open (malformed, another kind of ticket, forged).</summary>
    public const WebSocketCloseStatus BadTicket = (WebSocketCloseStatus)4401;

    /// <summary>Close code of an expired playback ticket.</summary>
    public const WebSocketCloseStatus TicketExpired = (WebSocketCloseStatus)4419;

    /// <summary>Close code of a recording no node has.</summary>
    public const WebSocketCloseStatus NotFound = (WebSocketCloseStatus)4404;

    private int _players;

    /// <summary>Handles one playback WebSocket.</summary>
    public async Task PlayAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Text("This is the recording playback WebSocket: the page /console/playback opens it with its playback ticket\n",
                "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(context);
            return;
        }

        var settings = options.CurrentValue;
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        if (Interlocked.Increment(ref _players) > settings.MaxPlayers)
        {
            Interlocked.Decrement(ref _players);
            await RefuseAsync(socket, client, (WebSocketCloseStatus)1013, "this node plays as many recordings as it may (Recording:MaxPlayers): try again shortly");
            return;
        }

        try
        {
            var (grant, status, reason) = Authorise(context.Request);
            if (grant is null)
            {
                await RefuseAsync(socket, client, status, reason);
                return;
            }

            if (PlaybackRequest.Parse(context.Request.Query, out var invalid) is not { } request)
            {
                await RefuseAsync(socket, client, WebSocketCloseStatus.PolicyViolation, invalid);
                return;
            }

            using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            lifetime.CancelAfter(settings.MaxPlayerLifetime);
            await using var file = await files.OpenAsync(grant.RecordingId, lifetime.Token);
            if (file is null || Index(grant.RecordingId, file) is not { } index)
            {
                await RefuseAsync(socket, client, NotFound, $"recording {grant.RecordingId} is not on any node (deleted, or its node is gone)");
                return;
            }

            LogStarted(logger, grant.RecordingId, client, grant.Viewer ?? "(none)", request.AtMs, request.Speed, request.Paused);
            var outcome = await player.PlayAsync(socket, file, index, request, lifetime.Token);

            if (outcome.Status == RecordingPlayer.PixelFormatRefused)
            {
                LogPixelFormatRefused(logger, grant.RecordingId, client, outcome.Reason);
            }

            LogEnded(logger, grant.RecordingId, client, (int)outcome.Status, outcome.Reason);
            await CloseAsync(socket, outcome.Status, outcome.Reason);
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or OperationCanceledException)
        {
            // The browser went away mid-send: nothing to tell it.
        }
        finally
        {
            Interlocked.Decrement(ref _players);
        }
    }

    /// <summary>The page's <c>info</c> call: the recording's length, markers and who and what was recorded, as JSON; never
    /// its screen data.</summary>
    public async Task<IResult> InfoAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.CacheControl = "no-store";
        var (grant, status, reason) = Authorise(context.Request);
        if (grant is null)
        {
            return Results.Problem(reason, statusCode: status == TicketExpired ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized);
        }

        await using var file = await files.OpenAsync(grant.RecordingId, context.RequestAborted);
        if (file is null || Index(grant.RecordingId, file) is not { } index)
        {
            return Results.Problem($"recording {grant.RecordingId} is not on any node (deleted, or its node is gone)", statusCode: StatusCodes.Status404NotFound);
        }

        var buckets = index.InputBuckets(out var bucketMs);
        return Results.Ok(new
        {
            recording = grant.RecordingId,
            durationMs = index.DurationMs,
            startMs = index.Keyframes[0].TimeMs,
            endMs = index.DurationMs,
            complete = index.Complete,
            vm = index.Summary.VmName,
            user = index.Summary.User,
            startedAt = index.Summary.StartedAt,
            bucketMs,
            inputs = buckets.Select(b => new { atMs = b.AtMs, count = b.Count }),
            expiresAt = grant.ExpiresAt,
        });
    }

    private (PlaybackGrant? Grant, WebSocketCloseStatus Status, string Reason) Authorise(HttpRequest request)
    {
        var text = request.Query.TryGetValue("ticket", out var values) ? values.ToString() : null;
        if (!PlaybackText.LooksLikePlayback(text))
        {
            return (null, BadTicket, "recordings play only with a playback ticket (vp1.) from POST /api/recordings/ID/playback, not a console ticket or token");
        }

        return PlaybackText.Verify(text, keys.Find, time.GetUtcNow(), out var grant) switch
        {
            TicketStatus.Valid => (grant, default, ""),
            TicketStatus.Expired => (null, TicketExpired, "playback ticket expired: open the recording again from the admin API"),
            TicketStatus.UnknownKey => (null, BadTicket, "playback ticket signed with a key this relay does not know"),
            TicketStatus.BadSignature => (null, BadTicket, "playback ticket did not verify"),
            _ => (null, BadTicket, "malformed playback ticket"),
        };
    }

    private RecordingIndex? Index(string recordingId, Stream file)
    {
        try
        {
            var started = time.GetTimestamp();
            var index = indexes.Get(recordingId, file);
            LogIndexed(logger, recordingId, index.Keyframes.Count, index.DurationMs, time.GetElapsedTime(started).TotalMilliseconds);
            return index;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private async Task RefuseAsync(WebSocket socket, string client, WebSocketCloseStatus status, string reason)
    {
        LogRefused(logger, client, (int)status, reason);
        await CloseAsync(socket, status, reason);
    }

    private async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
            await socket.CloseAsync(status, CloseReasonText.Fit(reason), deadline.Token);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
        {
            // The browser is gone or does not answer the close: the socket is disposed either way.
        }
    }

    [LoggerMessage(EventId = EventIds.PlaybackStarted, Level = LogLevel.Information,
        Message = "Playback of recording {RecordingId} for {Client} (viewer {Viewer}) from {AtMs} ms at {Speed}x, paused {Paused}")]
    private static partial void LogStarted(ILogger logger, string recordingId, string client, string viewer, uint atMs, int speed, bool paused);

    [LoggerMessage(EventId = EventIds.PlaybackEnded, Level = LogLevel.Debug,
        Message = "Playback of recording {RecordingId} for {Client} ended with {CloseCode}: {CloseReason}")]
    private static partial void LogEnded(ILogger logger, string recordingId, string client, int closeCode, string closeReason);

    [LoggerMessage(EventId = EventIds.PlaybackRefused, Level = LogLevel.Information,
        Message = "Refused a playback for {Client} with {CloseCode}: {CloseReason}")]
    private static partial void LogRefused(ILogger logger, string client, int closeCode, string closeReason);

    [LoggerMessage(EventId = EventIds.PlaybackPixelFormatRefused, Level = LogLevel.Warning,
        Message = "Playback of recording {RecordingId} for {Client} refused: {Reason}")]
    private static partial void LogPixelFormatRefused(ILogger logger, string recordingId, string client, string reason);

    [LoggerMessage(EventId = EventIds.PlaybackIndexed, Level = LogLevel.Debug,
        Message = "Recording {RecordingId} indexed: {Keyframes} keyframes, {DurationMs} ms long, in {ElapsedMs:F1} ms")]
    private static partial void LogIndexed(ILogger logger, string recordingId, int keyframes, uint durationMs, double elapsedMs);
}
