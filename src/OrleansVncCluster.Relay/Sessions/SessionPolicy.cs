using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// What one session's RFB messages may carry: the view-only rule for the browser's input (Rfb/RfbInputPolicy) and the
/// clipboard policy both ways. It decides each message the relay parses, and counts and logs every clipboard refusal
/// (direction, reason, size; never the contents). A session parses only the directions its policy needs: "both"
/// without a cap parses nothing, so a control session stays an opaque pipe; a policy towards the browser parses the
/// server's stream and restricts its encodings (docs/RFB.md, "Clipboard policy"). A recorded session parses both
/// directions and tells its <see cref="SessionRecorder"/> of every message (docs/RECORDING.md).
/// </summary>
public sealed partial class SessionPolicy : IRfbClientMessagePolicy, IRfbServerMessagePolicy
{
    /// <summary>Refusals logged per session and direction; later ones are only counted (a browser pasting in a loop
    /// must not flood the log).</summary>
    public const int LoggedRefusals = 20;

    private readonly RelaySession _session;
    private readonly RfbInputPolicy _input;
    private readonly RelayMetrics _metrics;
    private readonly ILogger _logger;
    private int _refusedToVm;
    private int _refusedFromVm;

    internal SessionPolicy(RelaySession session, ClipboardDirections clipboard, long maxClipboardBytes, RelayMetrics metrics, ILogger logger, SessionRecorder? recorder = null)
    {
        _session = session;
        Recorder = recorder;
        Clipboard = clipboard;
        MaxClipboardBytes = maxClipboardBytes;
        _metrics = metrics;
        _logger = logger;
        _input = new RfbInputPolicy
        {
            ViewOnly = session.ViewOnly,
            ClipboardToServer = (clipboard & ClipboardDirections.ToVm) != 0,
            MaxClipboardBytes = maxClipboardBytes > 0 ? maxClipboardBytes : long.MaxValue,
        };
    }

    /// <summary>Which ways the clipboard may go in this session: the cluster's default narrowed by the ticket.</summary>
    public ClipboardDirections Clipboard { get; }

    /// <summary>Larger clipboard contents are dropped either way; 0 for no cap.</summary>
    public long MaxClipboardBytes { get; }

    /// <summary>The session's recording, when it is recorded.</summary>
    public SessionRecorder? Recorder { get; }

    /// <summary>True when the relay must parse what the VNC server sends: clipboard towards the browser off or capped, or
    /// a recording (which needs its message boundaries for keyframes).</summary>
    public bool ReadsServer => (Clipboard & ClipboardDirections.FromVm) == 0 || MaxClipboardBytes > 0 || Recorder is not null;

    /// <summary>True when the relay must parse what the browser sends: a view session, clipboard to the VM off or capped,
    /// or a server stream it reads (whose encodings and pixel format the browser's messages set).</summary>
    public bool ReadsBrowser => _session.ViewOnly || ReadsServer || (Clipboard & ClipboardDirections.ToVm) == 0;

    /// <summary>The reader of the server's stream after <paramref name="serverInit"/>, when <see cref="ReadsServer"/>.</summary>
    public RfbServerMessageReader? ServerReader(RfbServerInit serverInit)
    {
        ArgumentNullException.ThrowIfNull(serverInit);
        return ReadsServer ? new RfbServerMessageReader(this, serverInit.PixelFormat.Span[0]) : null;
    }

    /// <summary>The filter of the browser's stream, when <see cref="ReadsBrowser"/>; it tells <paramref name="reader"/>
    /// what the browser asks of the server.</summary>
    public RfbClientMessageFilter? BrowserFilter(RfbServerMessageReader? reader) =>
        ReadsBrowser ? new RfbClientMessageFilter(this) { ServerReader = reader, RecordedEncodingsOnly = Recorder is not null } : null;

    /// <summary>Logs the session's policy once it relays (debug: one line per session).</summary>
    public void LogApplied() =>
        LogPolicy(_logger, _session.Id, ClipboardText.Format(Clipboard), MaxClipboardBytes, ReadsBrowser, ReadsServer);

    /// <inheritdoc/>
    public RfbMessageVerdict Decide(in RfbClientMessage message)
    {
        var verdict = _input.Decide(message);
        if (verdict == RfbMessageVerdict.Drop && message.CarriesClipboardData)
        {
            var reason = _session.ViewOnly ? "view_only" : (Clipboard & ClipboardDirections.ToVm) == 0 ? "policy" : "too_large";
            Refused(ref _refusedToVm, "to_vm", reason, message.ClipboardLength);
        }

        return Recorder?.Browser(message, verdict) ?? verdict;
    }

    /// <inheritdoc/>
    public RfbMessageVerdict Decide(in RfbServerMessage message)
    {
        var verdict = DecideServer(message);
        Recorder?.Server(message, verdict);
        return verdict;
    }

    private RfbMessageVerdict DecideServer(in RfbServerMessage message)
    {
        if (!message.CarriesClipboardData)
        {
            return RfbMessageVerdict.Forward;
        }

        if ((Clipboard & ClipboardDirections.FromVm) == 0)
        {
            Refused(ref _refusedFromVm, "from_vm", "policy", message.ClipboardLength);
            return RfbMessageVerdict.Drop;
        }

        if (MaxClipboardBytes > 0 && message.ClipboardLength > MaxClipboardBytes)
        {
            Refused(ref _refusedFromVm, "from_vm", "too_large", message.ClipboardLength);
            return RfbMessageVerdict.Drop;
        }

        return RfbMessageVerdict.Forward;
    }

    /// <summary>Counts a refusal and logs it, up to <see cref="LoggedRefusals"/> per direction. Each direction's counter is
    /// written by that direction's copy only.</summary>
    private void Refused(ref int refusals, string direction, string reason, long bytes)
    {
        _metrics.ClipboardRefused(direction, reason, bytes);
        refusals++;
        if (refusals <= LoggedRefusals)
        {
            LogRefused(_logger, _session.Id, direction, bytes, reason, ClipboardText.Format(Clipboard), MaxClipboardBytes);
        }

        if (refusals == LoggedRefusals)
        {
            LogQuiet(_logger, _session.Id, direction, LoggedRefusals);
        }
    }

    [LoggerMessage(EventId = EventIds.ClipboardRefused, Level = LogLevel.Information,
        Message = "Session {SessionId}: dropped {Bytes} bytes of clipboard {Direction} ({Reason}; clipboard {Policy}, cap {MaxClipboardBytes} bytes)")]
    private static partial void LogRefused(ILogger logger, string sessionId, string direction, long bytes, string reason, string policy, long maxClipboardBytes);

    [LoggerMessage(EventId = EventIds.ClipboardRefusalsQuiet, Level = LogLevel.Information,
        Message = "Session {SessionId}: {Count} clipboard refusals {Direction} logged; later ones are counted in vnc_relay_clipboard_refused_total only")]
    private static partial void LogQuiet(ILogger logger, string sessionId, string direction, int count);

    [LoggerMessage(EventId = EventIds.ClipboardPolicy, Level = LogLevel.Debug,
        Message = "Session {SessionId}: clipboard {Policy}, cap {MaxClipboardBytes} bytes; the relay parses the browser's messages {ReadsBrowser}, the VNC server's {ReadsServer}")]
    private static partial void LogPolicy(ILogger logger, string sessionId, string policy, long maxClipboardBytes, bool readsBrowser, bool readsServer);
}
