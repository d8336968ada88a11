using System.Net.WebSockets;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>One live console session on this node. Counters are written by one pump direction each.</summary>
public sealed class RelaySession
{
    private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytesToTarget;
    private long _bytesToClient;
    private long _lastActivity;

    internal RelaySession(string id, string token, ConsoleTokenEntry entry, string client, DateTimeOffset startedAt, bool viewOnly = false)
    {
        ViewOnly = viewOnly;
        Id = id;
        Token = token;
        Entry = entry;
        Client = client;
        StartedAt = startedAt;
        _lastActivity = Environment.TickCount64;
    }

    /// <summary>
    /// The node's own start-up rehearsal (<see cref="SessionRehearsal"/>): kept out of the session registry (so out of
    /// re-validation, which no grain could answer for its token), the history, the counters and the logs.
    /// </summary>
    public bool Rehearsal { get; init; }

    /// <summary>Short random id, used by the admin API to close one session.</summary>
    public string Id { get; }

    /// <summary>The console token (held in memory only; logs show <see cref="TokenText.ForLog"/>).</summary>
    public string Token { get; }

    /// <summary>What the token resolved to when the session opened.</summary>
    public ConsoleTokenEntry Entry { get; }

    /// <summary>The client address (from X-Forwarded-For when the peer is a trusted proxy).</summary>
    public string Client { get; }

    /// <summary>True for a session opened with a "view" ticket: the relay drops its input (RfbInputPolicy).</summary>
    public bool ViewOnly { get; }

    /// <summary>Who the session's ticket was issued for (free text from the portal), null without one.</summary>
    public string? User { get; init; }

    /// <summary>The session's recording id, when it is recorded (the history record links it).</summary>
    public string? RecordingId { get; internal set; }

    /// <summary>When the session opened.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Bytes relayed from the browser to the VNC server.</summary>
    public long BytesToTarget => Volatile.Read(ref _bytesToTarget);

    /// <summary>Bytes relayed from the VNC server to the browser.</summary>
    public long BytesToClient => Volatile.Read(ref _bytesToClient);

    /// <summary>Milliseconds (Environment.TickCount64) of the last relayed data.</summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>The close code and reason the session ended with, as the browser was told (or 1006 when the browser
    /// vanished first); null while it runs. Set by the session's owner, <see cref="SessionForwarder"/>.</summary>
    public (int Code, string Reason)? Ended { get; internal set; }

    /// <summary>The filter the browser's bytes pass through, when the relay parses them (a view session): its counts
    /// are the history's input counts.</summary>
    internal RfbClientMessageFilter? InputFilter { get; set; }

    /// <summary>Orders the session's history writes: a checkpoint never lands after the final record.</summary>
    internal Lock AuditGate { get; } = new();

    /// <summary>True once the final history record is queued.</summary>
    internal bool AuditClosed { get; set; }

    /// <summary>Bytes both ways at the last history write, to skip checkpoints of quiet sessions.</summary>
    internal long AuditedBytes { get; set; } = -1;

    /// <summary>Why the browser's RFB stream could not be filtered, when it could not.</summary>
    internal string? ProtocolError { get; set; }

    /// <summary>Completes when something outside the pump asks the session to end.</summary>
    internal Task StopRequested => _stop.Task;

    /// <summary>The close code and reason asked for by <see cref="RequestStop"/>; the first request wins.</summary>
    public (WebSocketCloseStatus Status, string Reason)? StopReason { get; private set; }

    /// <summary>Asks the session to close with this code and reason. Returns false when it was already asked.</summary>
    public bool RequestStop(WebSocketCloseStatus status, string reason)
    {
        lock (_stop)
        {
            if (StopReason is not null)
            {
                return false;
            }

            StopReason = (status, reason);
        }

        _stop.TrySetResult();
        return true;
    }

    internal void AddToTarget(int count)
    {
        Volatile.Write(ref _bytesToTarget, _bytesToTarget + count);
        Volatile.Write(ref _lastActivity, Environment.TickCount64);
    }

    internal void AddToClient(int count)
    {
        Volatile.Write(ref _bytesToClient, _bytesToClient + count);
        Volatile.Write(ref _lastActivity, Environment.TickCount64);
    }

    /// <summary>The session as the admin API lists it.</summary>
    public SessionInfo Describe(string node) => new()
    {
        Id = Id,
        Node = node,
        TokenPrefix = TokenText.ForLog(Token),
        Vm = Entry.Vm?.Label ?? Entry.Vm?.Name,
        Target = Entry.Target.ToString(),
        Client = Client,
        StartedAt = StartedAt,
        BytesToTarget = BytesToTarget,
        BytesToClient = BytesToClient,
        Role = ViewOnly ? "view" : "control",
        User = User,
        VmId = Entry.Vm?.Id,
        ConsoleKey = Tickets.TicketBinding.Of(Entry),
    };
}
