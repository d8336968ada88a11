using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OrleansVncCluster.Relay.Logging;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>This node as the rest of the cluster sees it: revocations and session queries arrive here.</summary>
internal sealed partial class LocalNode(SessionRegistry sessions, TokenResolver tokens, ILocalSiloDetails silo, ILogger<LocalNode> logger) : INodeObserver
{
    public string Name => silo.Name;

    public Task TokenRevokedAsync(string token, string reason)
    {
        tokens.Invalidate(token);
        var closed = sessions.StopByToken(token, CloseReasons.Revoked, reason);
        if (closed > 0)
        {
            LogRevoked(logger, TokenText.ForLog(token), closed, reason);
        }

        return Task.CompletedTask;
    }

    public Task<List<SessionInfo>> ListSessionsAsync() =>
        Task.FromResult(sessions.Snapshot().Select(session => session.Describe(Name)).ToList());

    public Task<bool> CloseSessionAsync(string sessionId, string reason) =>
        Task.FromResult(sessions.StopById(sessionId, WebSocketCloseStatus.PolicyViolation, reason));

    [LoggerMessage(EventId = EventIds.TokenRevoked, Level = LogLevel.Information,
        Message = "Token {Token} revoked: closing {Sessions} live session(s) with '{Reason}'")]
    private static partial void LogRevoked(ILogger logger, string token, int sessions, string reason);
}

/// <summary>Keeps this node registered in the node directory (re-registering survives directory moves and restarts).</summary>
internal sealed partial class NodeRegistrar(
    IGrainFactory grains, LocalNode node, ILocalSiloDetails silo, TimeProvider time, ILogger<NodeRegistrar> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reference = grains.CreateObjectReference<INodeObserver>(node);
        using var timer = new PeriodicTimer(NodeDirectory.RefreshInterval, time);
        do
        {
            try
            {
                await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).RegisterAsync(node.Name, silo.SiloAddress, reference);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogRegistrationFailed(logger, exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = EventIds.NodeRegistrationFailed, Level = LogLevel.Warning, Message = "Could not register this node in the node directory; retrying")]
    private static partial void LogRegistrationFailed(ILogger logger, Exception exception);
}
