using System.Net;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Revocation that holds (issue 12, item 4). Broadcasts are best effort: one lost while the directory grain re-activates
/// reaches no node, and a session registered just after a removal was invisible to it. So every session's token is asked
/// of its grain (never the per-node cache) once right after the session is registered, and then every
/// Revalidation:Interval in batches; a session whose token is gone or points elsewhere ends with 4410. A grain that
/// does not answer leaves the session alone until the next round.
/// </summary>
internal sealed partial class SessionRevalidator(
    SessionRegistry sessions,
    IGrainFactory grains,
    IOptionsMonitor<RevalidationOptions> options,
    IOptionsMonitor<TokenOptions> tokenOptions,
    TimeProvider time,
    ILogger<SessionRevalidator> logger) : BackgroundService
{
    /// <inheritdoc/>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        sessions.Registered += OnRegistered;
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        sessions.Registered -= OnRegistered;
        return base.StopAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CurrentValue.Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var live = sessions.Snapshot().GroupBy(session => session.Token, StringComparer.Ordinal).ToList();
            foreach (var batch in live.Chunk(options.CurrentValue.BatchSize))
            {
                await Task.WhenAll(batch.Select(group => CheckAsync(group.Key, [.. group])));
            }
        }
    }

    private void OnRegistered(RelaySession session) => _ = CheckAsync(session.Token, [session]);

    private async Task CheckAsync(string token, IReadOnlyList<RelaySession> live)
    {
        ConsoleTokenEntry? current;
        try
        {
            current = await grains.ForKey<ITokenGrain>(token).GetAsync().WaitAsync(tokenOptions.CurrentValue.LookupTimeout, time);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            LogRevalidationFailed(logger, TokenText.ForLog(token), exception.GetType().Name);
            return;
        }

        foreach (var session in live)
        {
            var reason = current is null ? CloseReasons.RevokedText : Retargeted(session.Entry, current) ? CloseReasons.TargetChangedText : null;
            if (reason is not null && session.RequestStop(CloseReasons.Revoked, reason))
            {
                LogSessionTokenInvalid(logger, session.Id, TokenText.ForLog(token), reason);
            }
        }
    }

    /// <summary>
    /// Whether the grain's entry no longer names the session's console. The session holds the entry as admitted, whose
    /// target the target check may have rewritten to the resolved address, so an unchanged entry is recognised by its
    /// SetAt (which changes only with the content); a changed one ends the session when its VM, port or address differs.
    /// </summary>
    internal static bool Retargeted(ConsoleTokenEntry session, ConsoleTokenEntry current)
    {
        if (current.SetAt == session.SetAt)
        {
            return false;
        }

        if (current.Vm != session.Vm || current.Target.Port != session.Target.Port || current.Target.UnixSocket != session.Target.UnixSocket)
        {
            return true;
        }

        // A host name was resolved at admission: only a literal address can be compared with what was dialled.
        return IPAddress.TryParse(current.Target.Host.Trim('[', ']'), out var address)
            && !(IPAddress.TryParse(session.Target.Host.Trim('[', ']'), out var dialled) && Networks.Normalize(dialled).Equals(Networks.Normalize(address)));
    }

    [LoggerMessage(EventId = EventIds.SessionTokenInvalid, Level = LogLevel.Information,
        Message = "Session {SessionId} on token {Token} ended by re-validation: '{Reason}' (its revocation broadcast did not arrive or came too early)")]
    private static partial void LogSessionTokenInvalid(ILogger logger, string sessionId, string token, string reason);

    [LoggerMessage(EventId = EventIds.RevalidationFailed, Level = LogLevel.Debug,
        Message = "Re-validation of token {Token} did not get an answer ({Error}); its sessions are checked again next round")]
    private static partial void LogRevalidationFailed(ILogger logger, string token, string error);
}
