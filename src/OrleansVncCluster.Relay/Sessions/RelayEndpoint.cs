using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The console WebSocket endpoint: accept -> admit -> dial -> relay -> close. Admission (Admission/AdmissionPipeline)
/// decides every refusal; the dialer connects to the VNC server; the forwarder owns the live session and its close.
/// Refusals after the upgrade are close frames with a reason the user can read, because a browser cannot see the
/// status of a refused upgrade (it reports a bare 1006).
/// </summary>
public sealed partial class RelayEndpoint(
    AdmissionPipeline admission,
    TargetDialer dialer,
    SessionForwarder forwarder,
    VncLogin vncLogin,
    SessionPolicies policies,
    SessionRegistry sessions,
    SessionAudit audit,
    ResumeGrants resume,
    Recorder recorder,
    SessionRehearsal rehearsal,
    RelayMetrics metrics,
    IOptionsMonitor<RelayOptions> options,
    TimeProvider time,
    ILogger<RelayEndpoint> logger)
{
    /// <summary>Handles one request on the relay path.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var arrived = Stopwatch.GetTimestamp();
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!context.WebSockets.IsWebSocketRequest)
        {
            LogNotWebSocket(logger, client, context.Request.Method);
            await RespondAsync(context, StatusCodes.Status400BadRequest,
                "This is a VNC console WebSocket endpoint: open it with a WebSocket client such as noVNC, e.g. ws://HOST/websockify?token=TOKEN\n");
            return;
        }

        var settings = options.CurrentValue;
        var request = new AdmissionContext(client, TicketGate.ReadPresented(context.Request), context.Request.Headers.Origin.ToString(), context.Request.Host.Value ?? "")
        {
            Rehearsal = rehearsal.Recognizes(context),
        };
        if (await admission.CheckUpgradeAsync(request, context.RequestAborted) is { } forbidden)
        {
            await RespondAsync(context, StatusCodes.Status403Forbidden, forbidden.Reason + "\n");
            return;
        }

        // Admission runs before the 101 (its refusals still travel as close frames right after it), so that the 101 can
        // carry the admitted session's resume credential (Admission/ResumeCookie): a refused attempt gets none.
        var admitted = await admission.AdmitAsync(request, context.RequestAborted);
        // Disposed here until the session's run owns it.
        var owned = true;
        try
        {
            if (admitted.Refused is null)
            {
                resume.Grant(context, admitted);
            }

            WebSocket? socket;
            BrowserFrameStream? frames;
            UpgradeHandoff? handoff;
            try
            {
                (socket, frames, handoff) = await AcceptAsync(context, settings, client);
            }
            catch
            {
                await admitted.NotRelayedAsync();
                throw;
            }

            if (socket is null)
            {
                // At the upgrade cap: the user never saw the console, so a single-use ticket must open it on the retry.
                await admitted.NotRelayedAsync();
                return;
            }

            if (admitted.Refused is { } refused)
            {
                // Refused while the request still holds the connection, so that the upgraded-connection cap bounds the
                // connections closing this way too (Hosting/ConnectionCaps.cs).
                using (socket)
                {
                    await forwarder.RefuseAsync(socket, refused.Status, refused.Reason);
                }

                return;
            }

            // The browser's socket, whose thread the VNC socket is to share (Sessions/SocketAffinity).
            var browser = context.Features.Get<IConnectionSocketFeature>()?.Socket;
            owned = false;
            if (handoff is not null)
            {
                // Kestrel's HTTP layer lets go of the request once this returns; the session runs on, on the connection.
                handoff.ContinueWith(connection => RunAsync(socket, frames, admitted, request.Rehearsal, settings, client, arrived, connection.ConnectionClosed, browser));
                return;
            }

            await RunAsync(socket, frames, admitted, request.Rehearsal, settings, client, arrived, context.RequestAborted, browser);
        }
        finally
        {
            if (owned)
            {
                await admitted.DisposeAsync();
            }
        }
    }

    /// <summary>An accepted and admitted session, from dialling the VNC server to its end; it owns the WebSocket and the
    /// admission (both disposed here).</summary>
    private async Task RunAsync(WebSocket accepted, BrowserFrameStream? frames, AdmissionResult admission, bool rehearsal, RelayOptions settings, string client,
        long arrived, CancellationToken aborted, Socket? browser)
    {
        using var socket = accepted;
        await using var admitted = admission;
        var entry = admitted.Entry!;
        var relayed = false;
        try
        {
            if (await DialAsync(socket, admitted, client, settings, aborted, browser) is not { } target)
            {
                return;
            }

            await using (target)
            {
                var session = new RelaySession(admitted.SessionId, admitted.Token, entry, client, time.GetUtcNow(), admitted.ViewOnly)
                {
                    User = admitted.Ticket?.User,
                    Rehearsal = rehearsal,
                };
                // A recorded session is one the relay speaks RFB for (it must know the ServerInit the browser saw and the
                // server's message boundaries); an unrecorded one keeps the fast path its policy allows.
                var mode = session.Rehearsal ? RecordingMode.Off : recorder.ModeFor(entry.Vm?.Enterprise, admitted.Ticket?.Record ?? false);

                // The cluster's clipboard policy narrowed by the ticket; a policy the relay must parse needs its own login.
                var clipboard = admitted.Ticket?.Clipboard ?? ClipboardDirections.Both;
                if (mode == RecordingMode.Off && !vncLogin.Applies(entry, policies.For(session, clipboard).ReadsBrowser))
                {
                    relayed = true;
                    await RelayAsync(socket, frames, target, session, settings, arrived, loggedIn: null, filter: null, reader: null, recording: null);
                    return;
                }

                if (await LogInAsync(socket, admitted, target, session, aborted) is not { } login)
                {
                    return;
                }

                // Inside TLS the session runs on the TLS stream; otherwise on the socket's fast path as before.
                var tls = login.Encrypted ? login.Stream : null;
                await using (tls)
                {
                    var started = mode == RecordingMode.Off ? default : StartRecording(session, login.ServerInit!, mode);
                    if (mode == RecordingMode.Required && !started.Started)
                    {
                        LogRecordingRefused(logger, session.Id, session.Client, TokenText.ForLog(session.Token), started.Reason!);
                        await RefuseUnrelayedAsync(socket, admitted, CloseReasons.RecordingUnavailable, $"{CloseReasons.RecordingUnavailableText}: {started.Reason}");
                        return;
                    }

                    using var recording = started.Recorder;
                    var policy = policies.For(session, clipboard, recording);

                    // Only a direction with a policy is parsed (a view session's input, a clipboard policy, a recording); a
                    // control session without one forwards its bytes as they come, as the pass-through does.
                    var reader = policy.ServerReader(login.ServerInit!);
                    var filter = policy.BrowserFilter(reader);
                    policy.LogApplied();
                    relayed = true;
                    await RelayAsync(socket, frames, target, session, settings, arrived, tls, filter, reader, recording);
                }
            }
        }
        finally
        {
            if (!relayed)
            {
                // The user never saw the console: a single-use ticket must still open it on the retry. A refusal has
                // given it back already (RefuseUnrelayedAsync); this covers an exception on the way.
                await admitted.NotRelayedAsync();
            }
        }
    }

    /// <summary>Opens the session's recording and writes the ServerInit the browser saw. A recording that must be kept
    /// and fails later closes the session with 4451; one that may fail only stops (logged and counted).</summary>
    private RecordingStart StartRecording(RelaySession session, RfbServerInit serverInit, RecordingMode mode)
    {
        var started = recorder.Start(new RecordingSubject
        {
            SessionId = session.Id,
            VmId = session.Entry.Vm?.Id,
            VmName = session.Entry.Vm?.Label ?? session.Entry.Vm?.Name,
            Enterprise = session.Entry.Vm?.Enterprise,
            User = session.User,
            Client = session.Client,
        });
        if (started.Recorder is { } recording)
        {
            session.RecordingId = recording.Id;
            recording.ServerInit(serverInit.Bytes.Span);
            recording.Failed = reason =>
            {
                LogRecordingStopped(logger, session.Id, recording.Id, reason);
                if (mode == RecordingMode.Required)
                {
                    session.RequestStop(CloseReasons.RecordingUnavailable, $"{CloseReasons.RecordingUnavailableText}: {reason}");
                }
            };
        }

        return started;
    }

    /// <summary>The relay's own login to the VNC server, then the None handshake it presents the browser. A refusal from
    /// the server closes with 4502 and the server's reason; the password is in neither (Rfb/RfbTargetLogin).</summary>
    private async Task<RfbTargetLoginResult?> LogInAsync(WebSocket socket, AdmissionResult admitted, NetworkStream target, RelaySession session, CancellationToken aborted)
    {
        var login = await vncLogin.LoginAsync(target, session.Entry, aborted);
        if (!login.Succeeded)
        {
            metrics.SessionFailed("vnc_login");
            LogVncLoginFailed(logger, session.Client, TokenText.ForLog(session.Token), session.Entry.Target, login.Failure.Value, login.Reason);
            await RefuseUnrelayedAsync(socket, admitted, CloseReasons.VncLoginFailed, login.Reason);
            return null;
        }

        var greeting = await vncLogin.GreetBrowserAsync(new WebSocketByteStream(socket), login.ServerInit, aborted);
        if (!greeting.Succeeded)
        {
            if (login.Encrypted)
            {
                await login.Stream.DisposeAsync();
            }

            metrics.SessionFailed("browser_handshake");
            LogBrowserHandshakeFailed(logger, session.Client, TokenText.ForLog(session.Token), greeting.Reason);
            await RefuseUnrelayedAsync(socket, admitted, CloseReasons.RfbViolation, greeting.Reason);
            return null;
        }

        LogVncLoggedIn(logger, session.Client, TokenText.ForLog(session.Token), session.Entry.Target, login.Security);
        return login;
    }

    /// <summary>Accepts the WebSocket: on the connection's transport when the listener hands sessions off
    /// (Sessions/UpgradeHandoff), else through ASP.NET Core's WebSocket middleware; null at the upgraded-connection cap,
    /// after answering 503. The connection under the WebSocket comes with it when the server's bytes may be framed in
    /// place beside it (Relay:InPlaceFrames), and the handoff when the session is to run on after the request.</summary>
    private async Task<(WebSocket? Socket, BrowserFrameStream? Frames, UpgradeHandoff? HandedOff)> AcceptAsync(HttpContext context, RelayOptions settings, string client)
    {
        var subProtocol = Handshake.ChooseSubprotocol(context.WebSockets.WebSocketRequestedProtocols);
        // A browser that stops answering pings is gone: free its session instead of waiting for TCP to notice.
        var keepAliveTimeout = settings.KeepAliveInterval > TimeSpan.Zero ? settings.KeepAliveInterval * 2 : Timeout.InfiniteTimeSpan;
        try
        {
            (WebSocket Socket, BrowserFrameStream? Frames, UpgradeHandoff? HandedOff) accepted;
            if (UpgradeHandoff.Of(context) is { } handoff && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                var (socket, frames) = await handoff.AcceptWebSocketAsync(context, upgrade, subProtocol, settings.KeepAliveInterval, keepAliveTimeout, settings.InPlaceFrames);
                accepted = (socket, frames, handoff);
            }
            else
            {
                var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
                {
                    SubProtocol = subProtocol,
                    KeepAliveInterval = settings.KeepAliveInterval,
                    KeepAliveTimeout = keepAliveTimeout,
                });
                accepted = (socket, InPlaceFramesUpgrade.Of(context), null);
            }

            // The session read what it needs from the request before the 101 (what the client presented, the origin, the
            // host, the resume page). Kestrel would keep the headers, as strings, for as long as the console is open: a
            // browser sends about a kilobyte of them (user agent, cookies, languages, extensions).
            context.Request.Headers.Clear();
            return accepted;
        }
        catch (InvalidOperationException) when (!context.Response.HasStarted)
        {
            // Kestrel's upgraded-connection cap (Hosting/ConnectionCaps.cs) is reached; it throws before the 101.
            // Answer 503 and Retry-After (the browser sees a failed WebSocket, noVNC retries), instead of the 500 and
            // the stack trace Kestrel's exception would give for every attempt.
            LogUpgradeRefused(logger, client);
            context.Response.Headers.RetryAfter = "5";
            await RespondAsync(context, StatusCodes.Status503ServiceUnavailable, "relay node is at its WebSocket connection cap: try again shortly\n");
            return (null, null, null);
        }
    }

    private async Task<NetworkStream?> DialAsync(WebSocket socket, AdmissionResult admitted, string client, RelayOptions settings, CancellationToken aborted, Socket? browser)
    {
        var entry = admitted.Entry!;
        try
        {
            return await dialer.DialAsync(entry.Target, settings.ConnectTimeout, aborted, settings.SocketAffinity ? browser : null);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or IOException)
        {
            var reason = exception is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? "console target refused the connection"
                : exception is OperationCanceledException ? "console target did not answer in time" : "console target unreachable";
            metrics.SessionFailed("target_unreachable");
            LogTargetUnreachable(logger, client, TokenText.ForLog(admitted.Token), entry.Target, exception.Message);
            await RefuseUnrelayedAsync(socket, admitted, CloseReasons.TargetFailed, reason);
            return null;
        }
    }

    /// <summary>Refuses an admitted session that never relayed, giving back what admission took first: the browser's
    /// retry (noVNC reconnects at once) must find a single-use ticket usable, not race the give-back.</summary>
    private async Task RefuseUnrelayedAsync(WebSocket socket, AdmissionResult admitted, WebSocketCloseStatus status, string reason)
    {
        await admitted.NotRelayedAsync();
        await forwarder.RefuseAsync(socket, status, reason);
    }

    private static (int Code, string Reason) Told((WebSocketCloseStatus Status, string Reason) close) => ((int)close.Status, close.Reason);

    private async Task RelayAsync(WebSocket socket, BrowserFrameStream? frames, NetworkStream target, RelaySession session, RelayOptions settings, long arrived, Stream? loggedIn,
        RfbClientMessageFilter? filter, RfbServerMessageReader? reader, SessionRecorder? recording)
    {
        session.InputFilter = filter;
        // The node's own start-up rehearsal is no one's session (Node/StartupRehearsal): out of the registry, so no
        // re-validation, checkpoint or admin list sees it, and no record (only the store's side of one, rehearsed at its
        // end), counter or log line.
        var counted = !session.Rehearsal;
        if (counted)
        {
            sessions.Add(session);
            audit.Opened(session);
            metrics.SessionStarted(Stopwatch.GetElapsedTime(arrived));
            LogStarted(logger, session.Id, session.Client, TokenText.ForLog(session.Token), session.Entry.Target, session.Entry.Vm?.Label ?? session.Entry.Vm?.Name,
                session.ViewOnly ? "view" : "control");
        }

        var watch = Stopwatch.StartNew();
        var outcome = SessionOutcome.ClientFailed;
        try
        {
            outcome = await forwarder.ForwardAsync(socket, target, session, settings, loggedIn, filter, reader, recording, frames);
        }
        finally
        {
            // What the browser was told: recorded by the forwarder's close, derived from the outcome only when it did not get that far.
            var (code, reason) = session.Ended ?? Told(SessionForwarder.CloseFor(outcome, session, settings));
            recording?.End(code, reason);
            // Queued before the session leaves the registry: a drain that waits for an empty registry then finds every
            // final record in the history's queue, which is stored before the node stops.
            if (counted)
            {
                audit.Closed(session);
                sessions.Remove(session);
                metrics.SessionEnded(outcome.ToString(), session.BytesToTarget, session.BytesToClient, watch.Elapsed);
                LogEnded(logger, session.Id, session.Client, TokenText.ForLog(session.Token), session.Entry.Target, session.BytesToTarget, session.BytesToClient,
                    watch.Elapsed.TotalSeconds, outcome, reason);
            }
            else
            {
                audit.Rehearsed(session);
            }
        }
    }

    private static async Task RespondAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text);
    }

    [LoggerMessage(EventId = EventIds.NotWebSocket, Level = LogLevel.Information,
        Message = "Refused a {Method} request from {Client} on the relay path: not a WebSocket upgrade (400)")]
    private static partial void LogNotWebSocket(ILogger logger, string client, string method);

    [LoggerMessage(EventId = EventIds.UpgradeCapReached, Level = LogLevel.Warning,
        Message = "Refused a WebSocket upgrade from {Client} with 503: the node is at its upgraded-connection cap (Kestrel:Limits:MaxConcurrentUpgradedConnections)")]
    private static partial void LogUpgradeRefused(ILogger logger, string client);

    [LoggerMessage(EventId = EventIds.TargetUnreachable, Level = LogLevel.Warning,
        Message = "Session from {Client} with token {Token}: target {Target} unreachable: {Error}")]
    private static partial void LogTargetUnreachable(ILogger logger, string client, string token, ConsoleTarget target, string error);

    [LoggerMessage(EventId = EventIds.VncLoginFailed, Level = LogLevel.Warning,
        Message = "Session from {Client} with token {Token}: the relay's login to the VNC server {Target} failed ({Failure}): {Reason}")]
    private static partial void LogVncLoginFailed(ILogger logger, string client, string token, ConsoleTarget target, RfbFailureKind failure, string reason);

    [LoggerMessage(EventId = EventIds.VncLoggedIn, Level = LogLevel.Debug,
        Message = "Session from {Client} with token {Token}: the relay logged in to the VNC server {Target} with {Security}")]
    private static partial void LogVncLoggedIn(ILogger logger, string client, string token, ConsoleTarget target, string security);

    [LoggerMessage(EventId = EventIds.BrowserHandshakeFailed, Level = LogLevel.Information,
        Message = "Session from {Client} with token {Token}: the browser's RFB handshake failed: {Reason}")]
    private static partial void LogBrowserHandshakeFailed(ILogger logger, string client, string token, string reason);

    [LoggerMessage(EventId = EventIds.RecordingRefused, Level = LogLevel.Warning,
        Message = "Session {SessionId} from {Client} with token {Token} refused: it must be recorded and the relay cannot record it: {Reason}")]
    private static partial void LogRecordingRefused(ILogger logger, string sessionId, string client, string token, string reason);

    [LoggerMessage(EventId = EventIds.RecordingStopped, Level = LogLevel.Warning,
        Message = "Session {SessionId}: recording {RecordingId} stopped: {Reason}")]
    private static partial void LogRecordingStopped(ILogger logger, string sessionId, string recordingId, string reason);

    [LoggerMessage(EventId = EventIds.SessionStarted, Level = LogLevel.Information,
        Message = "Session {SessionId} started: client {Client}, token {Token}, target {Target}, vm {Vm}, role {Role}")]
    private static partial void LogStarted(ILogger logger, string sessionId, string client, string token, ConsoleTarget target, string? vm, string role);

    [LoggerMessage(EventId = EventIds.SessionEnded, Level = LogLevel.Information,
        Message = "Session {SessionId} ended: client {Client}, token {Token}, target {Target}, {BytesToTarget} bytes up, {BytesToClient} bytes down, {DurationSeconds:F1} s, {Outcome}: {CloseReason}")]
    private static partial void LogEnded(ILogger logger, string sessionId, string client, string token, ConsoleTarget target,
        long bytesToTarget, long bytesToClient, double durationSeconds, SessionOutcome outcome, string closeReason);
}
