using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// This node's live sessions: for revocation (close every session of a token), drain, the admin list, metrics and the
/// idle timeout. One sweeper for all sessions keeps the per-frame cost of the idle timeout to a timestamp write.
/// </summary>
public sealed class SessionRegistry(IOptionsMonitor<RelayOptions> options, TimeProvider time) : BackgroundService, INodeLoad
{
    private readonly ConcurrentDictionary<string, RelaySession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Live sessions right now.</summary>
    public int Count => _sessions.Count;

    /// <inheritdoc/>
    int INodeLoad.LiveSessions => _sessions.Count;

    /// <summary>A snapshot of the live sessions.</summary>
    public IReadOnlyCollection<RelaySession> Snapshot() => [.. _sessions.Values];

    /// <summary>
    /// Raised after a session is registered, so that its token can be checked again once the session is visible to
    /// revocation: a removal that landed between the lookup and the registration found nothing to close.
    /// </summary>
    public event Action<RelaySession>? Registered;

    internal void Add(RelaySession session)
    {
        _sessions[session.Id] = session;
        Registered?.Invoke(session);
    }

    internal void Remove(RelaySession session) => _sessions.TryRemove(session.Id, out _);

    /// <summary>Asks every session of <paramref name="token"/> to close; returns how many were asked.</summary>
    public int StopByToken(string token, WebSocketCloseStatus status, string reason)
    {
        var stopped = 0;
        foreach (var session in _sessions.Values)
        {
            if (session.Token == token && session.RequestStop(status, reason))
            {
                stopped++;
            }
        }

        return stopped;
    }

    /// <summary>The live session <paramref name="id"/> on this node, or null.</summary>
    public RelaySession? Find(string id) => _sessions.GetValueOrDefault(id);

    /// <summary>Asks one session to close; false when there is no such session.</summary>
    public bool StopById(string id, WebSocketCloseStatus status, string reason) =>
        _sessions.TryGetValue(id, out var session) && session.RequestStop(status, reason);

    /// <summary>Asks every session to close (end of a drain).</summary>
    public int StopAll(WebSocketCloseStatus status, string reason) =>
        _sessions.Values.Count(session => session.RequestStop(status, reason));

    /// <summary>Completes when no session is left, or when <paramref name="cancellationToken"/> fires.</summary>
    public async Task WaitUntilEmptyAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        while (!_sessions.IsEmpty && await timer.WaitForNextTickAsync(cancellationToken))
        {
        }
    }

    /// <summary>The idle sweeper: runs only while an idle timeout is configured, at a quarter of it (at most every 5 s).</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var idle = options.CurrentValue.IdleTimeout;
            var period = idle > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Min(idle.Ticks / 4, TimeSpan.FromSeconds(5).Ticks)) : TimeSpan.FromSeconds(5);
            try
            {
                await Task.Delay(period < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : period, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (idle <= TimeSpan.Zero)
            {
                continue;
            }

            var now = Environment.TickCount64;
            foreach (var session in _sessions.Values)
            {
                if (now - session.LastActivity > idle.TotalMilliseconds)
                {
                    session.RequestStop(CloseReasons.Idle, CloseReasons.IdleText);
                }
            }
        }
    }
}
