using System.Diagnostics;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// The console WebSocket endpoint: accept the upgrade, resolve the token, dial the VNC server, relay, close with a
/// reason the user can read. Every refusal happens after the 101 as a close frame with a reason, because a browser
/// cannot see the status of a refused upgrade (it reports a bare 1006).
/// </summary>
public sealed partial class RelayEndpoint(
    TokenResolver tokens,
    TicketGate tickets,
    SessionRegistry sessions,
    RelayMetrics metrics,
    DrainState drain,
    SessionAdmission admission,
    TargetDialer dialer,
    SessionForwarder forwarder,
    IOptionsMonitor<RelayOptions> options,
    TimeProvider time,
    ILogger<RelayEndpoint> logger)
{
    /// <summary>Handles one request on the relay path.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!context.WebSockets.IsWebSocketRequest)
        {
            LogNotWebSocket(logger, client, context.Request.Method);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(
                "This is a VNC console WebSocket endpoint: open it with a WebSocket client such as noVNC, e.g. ws://HOST/websockify?token=TOKEN\n");
            return;
        }

        var settings = options.CurrentValue;
        var origin = context.Request.Headers.Origin.ToString();
        if (!OriginPolicy.IsAllowed(origin, context.Request.Host.Value ?? "", AllowedOrigins(settings)))
        {
            // Cross-site WebSocket hijacking: browsers send cookies with cross-site upgrades and apply no CORS to them.
            metrics.SessionFailed("origin_refused");
            LogOriginRefused(logger, client, origin);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"Origin {origin} may not open consoles here; add it to Relay:AllowedOrigins.\n");
            return;
        }

        // A ticket is verified here and stands for the VM token inside it from now on (sessions, revocation, logs).
        var presented = TicketGate.ReadPresented(context.Request);
        var ticket = tickets.Admit(presented);
        var token = ticket.Token;
        WebSocket accepted;
        try
        {
            accepted = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = Handshake.ChooseSubprotocol(context.WebSockets.WebSocketRequestedProtocols),
                KeepAliveInterval = settings.KeepAliveInterval,
                // A browser that stops answering pings is gone: free its session instead of waiting for TCP to notice.
                KeepAliveTimeout = settings.KeepAliveInterval > TimeSpan.Zero ? settings.KeepAliveInterval * 2 : Timeout.InfiniteTimeSpan,
            });
        }
        catch (InvalidOperationException) when (!context.Response.HasStarted)
        {
            // Kestrel's upgraded-connection cap (Hosting/ConnectionCaps.cs) is reached; it throws before the 101.
            await RefuseUpgradeAsync(context, client);
            return;
        }

        using var socket = accepted;

        // Limits (Limits/SessionAdmission) wrap CheckAsync; disposing the admission gives its session leases back.
        await using var refusal = await admission.AdmitAsync(client, token, cancellationToken => CheckAsync(ticket, cancellationToken), context.RequestAborted);
        if (refusal.Entry is not { } entry)
        {
            var (status, reason, metric) = refusal.Refused;
            metrics.SessionFailed(metric);
            LogRefused(logger, client, TokenText.ForLog(presented), (int)status, reason);
            await forwarder.RefuseAsync(socket, status, reason);
            return;
        }

        NetworkStream target;
        try
        {
            target = await dialer.DialAsync(entry.Target, settings.ConnectTimeout, context.RequestAborted);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or IOException)
        {
            var reason = exception is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? "console target refused the connection"
                : exception is OperationCanceledException ? "console target did not answer in time" : "console target unreachable";
            metrics.SessionFailed("target_unreachable");
            LogTargetUnreachable(logger, client, TokenText.ForLog(token), entry.Target, exception.Message);
            await forwarder.RefuseAsync(socket, CloseReasons.TargetFailed, reason);
            return;
        }

        await using (target)
        {
            var session = new RelaySession(Guid.NewGuid().ToString("N")[..12], token!, entry, client, time.GetUtcNow());
            sessions.Add(session);
            metrics.SessionStarted();
            LogStarted(logger, session.Id, client, TokenText.ForLog(token), entry.Target, entry.Vm?.Label ?? entry.Vm?.Name);
            var watch = Stopwatch.StartNew();
            var outcome = SessionOutcome.ClientFailed;
            try
            {
                outcome = await forwarder.ForwardAsync(socket, target, session, settings);
            }
            finally
            {
                sessions.Remove(session);
                metrics.SessionEnded(outcome.ToString(), session.BytesToTarget, session.BytesToClient);
                var closeReason = SessionForwarder.CloseFor(outcome, session, settings).Reason;
                LogEnded(logger, session.Id, client, TokenText.ForLog(token), entry.Target, session.BytesToTarget, session.BytesToClient,
                    watch.Elapsed.TotalSeconds, outcome, closeReason);
            }
        }
    }

    private async ValueTask<(Refusal Refused, ConsoleTokenEntry? Entry)> CheckAsync(Presented ticket, CancellationToken cancellationToken)
    {
        var token = ticket.Token;
        if (drain.IsDraining)
        {
            return (new(CloseReasons.TryAgainLater, CloseReasons.DrainingText, "draining"), null);
        }

        var cap = options.CurrentValue.MaxSessions;
        if (cap > 0 && sessions.Count >= cap)
        {
            return (new(CloseReasons.TooMany, CloseReasons.NodeFullText, "node_full"), null);
        }

        if (ticket.Refused is { } ticketRefusal)
        {
            return (ticketRefusal, null);
        }

        if (string.IsNullOrEmpty(token))
        {
            return (new(CloseReasons.BadToken, CloseReasons.MissingTokenText, "missing_token"), null);
        }

        if (!TokenText.IsWellFormed(token))
        {
            return (new(CloseReasons.BadToken, CloseReasons.MalformedTokenText, "malformed_token"), null);
        }

        var lookup = await tokens.ResolveAsync(token, cancellationToken);
        if (lookup.Status == LookupStatus.Found && await tickets.RedeemAsync(ticket, cancellationToken) is { } spent)
        {
            return (spent, null);
        }

        return lookup.Status switch
        {
            LookupStatus.Found => (default, lookup.Entry),
            LookupStatus.Unknown => (new(CloseReasons.UnknownToken, CloseReasons.UnknownTokenText, "unknown_token"), null),
            _ => (new(CloseReasons.TryAgainLater, CloseReasons.TokenStoreUnavailableText, "token_store_unavailable"), null),
        };
    }

    private static List<string> AllowedOrigins(RelayOptions settings) =>
        settings.PublicUrl is { Length: > 0 } publicUrl ? [.. settings.AllowedOrigins, publicUrl] : settings.AllowedOrigins;

    /// <summary>
    /// Answers an upgrade refused by the cap with 503 and Retry-After (the browser sees a failed WebSocket, noVNC retries),
    /// instead of the 500 and the stack trace Kestrel's exception would give for every attempt.
    /// </summary>
    private async Task RefuseUpgradeAsync(HttpContext context, string client)
    {
        LogUpgradeRefused(logger, client);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync("relay node is at its WebSocket connection cap: try again shortly\n");
    }

    [LoggerMessage(EventId = EventIds.UpgradeCapReached, Level = LogLevel.Warning,
        Message = "Refused a WebSocket upgrade from {Client} with 503: the node is at its upgraded-connection cap (Kestrel:Limits:MaxConcurrentUpgradedConnections)")]
    private static partial void LogUpgradeRefused(ILogger logger, string client);

    [LoggerMessage(EventId = EventIds.NotWebSocket, Level = LogLevel.Information,
        Message = "Refused a {Method} request from {Client} on the relay path: not a WebSocket upgrade (400)")]
    private static partial void LogNotWebSocket(ILogger logger, string client, string method);

    [LoggerMessage(EventId = EventIds.OriginRefused, Level = LogLevel.Warning,
        Message = "Refused a cross-site WebSocket upgrade from {Client}: origin {Origin} is not allowed (403)")]
    private static partial void LogOriginRefused(ILogger logger, string client, string origin);

    [LoggerMessage(EventId = EventIds.SessionRefused, Level = LogLevel.Information,
        Message = "Refused session from {Client} with token {Token}: {CloseCode} {CloseReason}")]
    private static partial void LogRefused(ILogger logger, string client, string token, int closeCode, string closeReason);

    [LoggerMessage(EventId = EventIds.TargetUnreachable, Level = LogLevel.Warning,
        Message = "Session from {Client} with token {Token}: target {Target} unreachable: {Error}")]
    private static partial void LogTargetUnreachable(ILogger logger, string client, string token, ConsoleTarget target, string error);

    [LoggerMessage(EventId = EventIds.SessionStarted, Level = LogLevel.Information,
        Message = "Session {SessionId} started: client {Client}, token {Token}, target {Target}, vm {Vm}")]
    private static partial void LogStarted(ILogger logger, string sessionId, string client, string token, ConsoleTarget target, string? vm);

    [LoggerMessage(EventId = EventIds.SessionEnded, Level = LogLevel.Information,
        Message = "Session {SessionId} ended: client {Client}, token {Token}, target {Target}, {BytesToTarget} bytes up, {BytesToClient} bytes down, {DurationSeconds:F1} s, {Outcome}: {CloseReason}")]
    private static partial void LogEnded(ILogger logger, string sessionId, string client, string token, ConsoleTarget target,
        long bytesToTarget, long bytesToClient, double durationSeconds, SessionOutcome outcome, string closeReason);
}
