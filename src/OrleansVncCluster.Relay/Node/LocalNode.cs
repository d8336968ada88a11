using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Node;

/// <summary>This node as the rest of the cluster sees it: revocations and session queries arrive here.</summary>
internal sealed partial class LocalNode(
    SessionRegistry sessions,
    Recorder recorder,
    TokenResolver tokens,
    ILocalSiloDetails silo,
    IGrainFactory grains,
    IOptionsMonitor<RevalidationOptions> revalidation,
    IOptionsMonitor<TicketOptions> tickets,
    TimeProvider time,
    ILogger<LocalNode> logger) : INodeObserver
{
    private int _failedForTesting;

    public string Name => silo.Name;

    public Task TokenRevokedAsync(string token, RevocationCause cause)
    {
        if (revalidation.CurrentValue.DropBroadcastsForTesting)
        {
            LogDroppedForTesting(logger, TokenText.ForLog(token));
            return Task.CompletedTask;
        }

        if (revalidation.CurrentValue.FailFirstBroadcastsForTesting is > 0 and var failFirst
            && Interlocked.Increment(ref _failedForTesting) is var delivery && delivery <= failFirst)
        {
            // A failed delivery, as the directory sees a node that is unreachable for a moment: it must retry.
            LogFailedForTesting(logger, TokenText.ForLog(token), delivery);
            throw new OrleansException("revocation delivery failed: Revalidation:FailFirstBroadcastsForTesting (fault injection)");
        }

        var reason = cause switch
        {
            RevocationCause.Retargeted => CloseReasons.TargetChangedText,
            RevocationCause.RevokedByOperator => CloseReasons.RevokedByOperatorText,
            _ => CloseReasons.RevokedText,
        };
        tokens.Invalidate(token);
        var closed = sessions.StopByToken(token, CloseReasons.Revoked, reason);
        if (closed > 0)
        {
            LogRevoked(logger, TokenText.ForLog(token), closed, reason);
        }

        return Task.CompletedTask;
    }

    public Task<long> RecordingLengthAsync(string recordingId) =>
        Task.FromResult(recorder.LocalPath(recordingId) is { } path ? new FileInfo(path).Length : -1);

    public async Task<byte[]> ReadRecordingAsync(string recordingId, long offset, int count)
    {
        if (recorder.LocalPath(recordingId) is not { } path)
        {
            return [];
        }

        // A live recording is still being written: share it with its writer.
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
        var bytes = new byte[Math.Clamp(Math.Min(count, file.Length - offset), 0, ClusterRecordingFiles.ChunkBytes)];
        file.Seek(offset, SeekOrigin.Begin);
        var read = await file.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false);
        return read == bytes.Length ? bytes : bytes[..read];
    }

    public Task<List<SessionInfo>> ListSessionsAsync() =>
        Task.FromResult(sessions.Snapshot().Select(session => session.Describe(Name)).ToList());

    /// <summary>
    /// An administrator's close: the token's grain first learns that this session may not be resumed (its page holds a
    /// resume credential for Tickets:ResumeWindow), then the session ends with 1008. Should the grain not answer, the
    /// session ends all the same and the log says its credential still works until it expires.
    /// </summary>
    public async Task<bool> CloseSessionAsync(string sessionId, string reason)
    {
        if (sessions.Find(sessionId) is not { } session)
        {
            return false;
        }

        var window = tickets.CurrentValue.ResumeWindow;
        if (window > TimeSpan.Zero)
        {
            try
            {
                await grains.ForKey<ITokenGrain>(session.Token).ForbidResumeAsync(sessionId, time.GetUtcNow() + window).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception) when (exception is TimeoutException or OrleansException)
            {
                LogForbidFailed(logger, sessionId, TokenText.ForLog(session.Token), window, exception.Message);
            }
        }

        return sessions.StopById(sessionId, WebSocketCloseStatus.PolicyViolation, reason);
    }

    [LoggerMessage(EventId = EventIds.ResumeForbidFailed, Level = LogLevel.Warning,
        Message = "Session {SessionId} of token {Token} is closed, but its grain did not record the close: the page's resume credential still works for up to {Window} ({Error}); revoke the token to stop it")]
    private static partial void LogForbidFailed(ILogger logger, string sessionId, string token, TimeSpan window, string error);

    [LoggerMessage(EventId = EventIds.RevocationDroppedForTesting, Level = LogLevel.Warning,
        Message = "Revocation of token {Token} dropped: Revalidation:DropBroadcastsForTesting is on (fault injection; never in production)")]
    private static partial void LogDroppedForTesting(ILogger logger, string token);

    [LoggerMessage(EventId = EventIds.RevocationFailedForTesting, Level = LogLevel.Warning,
        Message = "Revocation of token {Token} failed on purpose (delivery {Delivery}): Revalidation:FailFirstBroadcastsForTesting is set (fault injection; never in production)")]
    private static partial void LogFailedForTesting(ILogger logger, string token, int delivery);

    [LoggerMessage(EventId = EventIds.TokenRevoked, Level = LogLevel.Information,
        Message = "Token {Token} revoked: closing {Sessions} live session(s) with '{Reason}'")]
    private static partial void LogRevoked(ILogger logger, string token, int sessions, string reason);
}
