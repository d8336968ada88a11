using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Writes each session's history record (Audit/): open when it starts relaying, its counters every
/// <see cref="AuditOptions.CheckpointInterval"/> while they change, closed with its close code and reason when it ends.
/// Each write only queues (<see cref="AuditTrail.Write"/>): nothing here waits on Redis. Input counts come from the
/// filter of a session whose input the relay parses (a view session); a pass-through session's are 0.
/// </summary>
public sealed class SessionAudit(
    AuditTrail trail, SessionRegistry sessions, ILocalSiloDetails silo, IOptionsMonitor<AuditOptions> options, TimeProvider time) : BackgroundService
{
    /// <summary>Records the start of <paramref name="session"/> (an open record: a crash leaves it for a survivor to close).</summary>
    public void Opened(RelaySession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (session.AuditGate)
        {
            session.AuditedBytes = session.BytesToTarget + session.BytesToClient;
            trail.Write(RecordOf(session, silo.Name, end: null), AuditStage.Opened);
        }
    }

    /// <summary>Records the end of <paramref name="session"/>, with <see cref="RelaySession.Ended"/> as it stands.</summary>
    public void Closed(RelaySession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (session.AuditGate)
        {
            session.AuditClosed = true;
            trail.Write(RecordOf(session, silo.Name, time.GetUtcNow()), AuditStage.Closed);
        }
    }

    /// <summary>
    /// For a start-up rehearsal session (<see cref="RelaySession.Rehearsal"/>), which leaves no record: builds its records
    /// as <see cref="Opened"/> and <see cref="Closed"/> would and runs the store's side of them without storing
    /// (<see cref="AuditTrail.Rehearse"/>).
    /// </summary>
    public void Rehearsed(RelaySession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        trail.Rehearse(RecordOf(session, silo.Name, end: null));
        trail.Rehearse(RecordOf(session, silo.Name, time.GetUtcNow()));
    }

    /// <summary>Rewrites the records of live sessions whose bytes moved since their last write; returns how many.</summary>
    public int Checkpoint()
    {
        var written = 0;
        foreach (var session in sessions.Snapshot())
        {
            lock (session.AuditGate)
            {
                var bytes = session.BytesToTarget + session.BytesToClient;
                if (session.AuditClosed || bytes == session.AuditedBytes)
                {
                    continue;
                }

                session.AuditedBytes = bytes;
                trail.Write(RecordOf(session, silo.Name, end: null), AuditStage.Checkpoint);
                written++;
            }
        }

        return written;
    }

    /// <summary>The history record of <paramref name="session"/> as it stands; closed when <paramref name="end"/> is given.</summary>
    public static AuditRecord RecordOf(RelaySession session, string node, DateTimeOffset? end)
    {
        ArgumentNullException.ThrowIfNull(session);
        var vm = session.Entry.Vm;
        var filter = session.InputFilter;
        (int Code, string Reason)? ended = end is null ? null : session.Ended ?? (SessionForwarder.BrowserLostCode, SessionForwarder.BrowserLostText);
        return new AuditRecord
        {
            Id = session.Id,
            Vm = new AuditVm { Id = vm?.Id, Name = vm?.Label ?? vm?.Name, Enterprise = vm?.Enterprise },
            RecordingId = session.RecordingId,
            User = session.User,
            Client = session.Client,
            Node = node,
            Start = session.StartedAt,
            End = end,
            BytesToVm = session.BytesToTarget,
            BytesToBrowser = session.BytesToClient,
            Role = session.ViewOnly ? "view" : "control",
            CloseCode = ended?.Code,
            CloseReason = ended?.Reason,
            // What the browser sent, forwarded or dropped by the view policy: the history says what was attempted.
            KeyEvents = filter is null ? 0 : Sent(filter, RfbClientMessageKind.KeyEvent) + Sent(filter, RfbClientMessageKind.QemuExtendedKeyEvent),
            PointerEvents = filter is null ? 0 : Sent(filter, RfbClientMessageKind.PointerEvent),
            ClipboardBytes = filter is null ? 0 : filter.ForwardedClipboardBytes + filter.DroppedClipboardBytes,
        };
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.CheckpointInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Checkpoint();
        }
    }

    private static long Sent(RfbClientMessageFilter filter, RfbClientMessageKind kind) => filter.Forwarded(kind) + filter.Dropped(kind);
}
