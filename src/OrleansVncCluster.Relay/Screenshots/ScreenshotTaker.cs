using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Screenshots;

/// <summary>
/// Takes a screenshot of a console's VM: looks the token up, applies the target policy as a session would, dials, logs
/// in on a connection of its own (always shared, even under Vnc:Exclusive, so a live console is never kicked), reads
/// one whole frame in Raw (Rfb/RfbFramebufferCapture) and encodes a PNG. At most Screenshots:MaxConcurrent run at once
/// per node, each within Screenshots:Timeout.
/// </summary>
public sealed partial class ScreenshotTaker
{
    private readonly TokenResolver _tokens;
    private readonly TargetPolicy _targets;
    private readonly TargetDialer _dialer;
    private readonly VncLogin _login;
    private readonly ScreenshotOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly RelayMetrics _metrics;
    private readonly ILogger<ScreenshotTaker> _logger;

    /// <summary>Builds the taker; it logs in through the sessions' <see cref="VncLogin"/> (the Targets settings, the known passwords).</summary>
    public ScreenshotTaker(TokenResolver tokens, TargetPolicy targets, TargetDialer dialer, VncLogin login,
        IOptions<ScreenshotOptions> options, RelayMetrics metrics, ILogger<ScreenshotTaker> logger)
    {
        _tokens = tokens;
        _targets = targets;
        _dialer = dialer;
        _login = login;
        _options = options.Value;
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>A PNG of the console's screen, or the HTTP status and a readable reason why not.</summary>
    public async Task<Screenshot> TakeAsync(string token, int? width, CancellationToken aborted)
    {
        if (!_slots.Wait(0))
        {
            return Refused(StatusCodes.Status429TooManyRequests, "busy", token,
                $"this node is already taking {_options.MaxConcurrent} screenshots (Screenshots:MaxConcurrent): try again shortly");
        }

        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        deadline.CancelAfter(_options.Timeout);
        try
        {
            var screenshot = await CaptureAsync(token, width, deadline.Token);
            if (screenshot.Png is not null)
            {
                _metrics.Screenshot("taken");
                LogTaken(_logger, TokenText.ForLog(token), screenshot.Png.Length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            return screenshot;
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return Refused(StatusCodes.Status504GatewayTimeout, "timeout", token,
                $"the VNC server did not deliver a whole screen within {_options.Timeout.TotalSeconds:0.#} s (Screenshots:Timeout)");
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            return Refused(StatusCodes.Status502BadGateway, "unreachable", token, $"the VNC server could not be reached: {exception.Message}");
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<Screenshot> CaptureAsync(string token, int? width, CancellationToken cancellationToken)
    {
        var lookup = await _tokens.ResolveAsync(token, cancellationToken);
        if (lookup.Status != LookupStatus.Found)
        {
            return lookup.Status == LookupStatus.Unknown
                ? Refused(StatusCodes.Status404NotFound, "unknown_token", token, "no console has this token")
                : Refused(StatusCodes.Status503ServiceUnavailable, "token_store_unavailable", token, "the token store did not answer: try again shortly");
        }

        var entry = lookup.Entry!;
        var (verdict, target, _) = await _targets.CheckAsync(entry.Target, cancellationToken);
        if (verdict != TargetVerdict.Allowed)
        {
            return Refused(StatusCodes.Status403Forbidden, "target_refused", token, $"the console's target is refused by the target policy ({verdict})");
        }

        await using var connection = await _dialer.DialAsync(target, _options.Timeout, cancellationToken);
        var login = await _login.LoginSharedAsync(connection, entry, cancellationToken);
        if (!login.Succeeded)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Refused(StatusCodes.Status502BadGateway, "login_failed", token, $"the relay could not log in to the VNC server: {login.Reason}");
        }

        await using var session = login.Stream;
        var capture = await RfbFramebufferCapture.CaptureAsync(session, login.ServerInit, cancellationToken);
        if (!capture.Succeeded)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Refused(StatusCodes.Status502BadGateway, "capture_failed", token, capture.Reason);
        }

        return new Screenshot(StatusCodes.Status200OK, ScreenshotPng.Encode(capture.Frame, width), null);
    }

    private Screenshot Refused(int status, string outcome, string token, string reason)
    {
        _metrics.Screenshot(outcome);
        LogFailed(_logger, TokenText.ForLog(token), status, reason);
        return new Screenshot(status, null, reason);
    }

    [LoggerMessage(EventId = EventIds.ScreenshotTaken, Level = LogLevel.Information,
        Message = "Screenshot of console {Token}: {Bytes} bytes of PNG in {Milliseconds:0} ms")]
    private static partial void LogTaken(ILogger logger, string token, int bytes, double milliseconds);

    [LoggerMessage(EventId = EventIds.ScreenshotFailed, Level = LogLevel.Warning,
        Message = "No screenshot of console {Token} ({Status}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string token, int status, string reason);
}

/// <summary>A screenshot's answer: <see cref="Png"/> when <see cref="Status"/> is 200, else a readable <see cref="Reason"/>.</summary>
public sealed record Screenshot(int Status, byte[]? Png, string? Reason);
