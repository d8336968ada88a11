using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// The admin surface, on the admin listener only: drain and undrain, the cluster's live sessions, closing one, and
/// revoking a token. Every /api call needs "Authorization: Bearer TOKEN"; with no token configured the API refuses
/// everything (no default credentials).
/// </summary>
public static partial class AdminEndpoints
{
    private static readonly TimeSpan NodeAnswerTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Maps /api/* behind the admin credential; returns the group so other capabilities can add to it.</summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints, int adminPort)
    {
        var api = endpoints.MapGroup("/api").WithMetadata(new AdminPortMetadata(adminPort)).RequireAuthorization(AdminPolicies.Admin);

        api.MapPost("/drain", (DrainCoordinator drain, SessionRegistry sessions) =>
        {
            _ = drain.DrainAsync();
            return Results.Accepted(value: new { draining = true, liveSessions = sessions.Count });
        });

        api.MapDelete("/drain", (DrainCoordinator drain, SessionRegistry sessions) => drain.Undrain() switch
        {
            UndrainResult.ShuttingDown => Results.Conflict(new { error = "the node is shutting down: its drain goes on until it stops" }),
            var result => Results.Ok(new { draining = false, wasDraining = result == UndrainResult.Undrained, liveSessions = sessions.Count }),
        });

        api.MapDelete("/tokens/{token}", RevokeTokenAsync);

        api.MapGet("/sessions", async (IGrainFactory grains) =>
        {
            if (await NodesAsync(grains) is not { } nodes)
            {
                return DirectoryUnavailable();
            }

            var lists = await NodeFanOut.AskEveryAsync(nodes, node => node.ListSessionsAsync(), NodeAnswerTimeout, fallback: []);
            return Results.Ok(new { nodes = nodes.Select(n => n.Name).Order(StringComparer.Ordinal), sessions = SessionInfo.WithViewers([.. lists.SelectMany(l => l)]).OrderBy(s => s.StartedAt) });
        });

        api.MapDelete("/sessions/{id}", async (string id, IGrainFactory grains) =>
        {
            if (await NodesAsync(grains) is not { } nodes)
            {
                return DirectoryUnavailable();
            }

            var answers = await NodeFanOut.AskEveryAsync(nodes, node => node.CloseSessionAsync(id, "console closed by an administrator"), NodeAnswerTimeout, fallback: false);
            return answers.Any(closed => closed) ? Results.Ok(new { closed = id }) : Results.NotFound(new { error = $"no live session {id}" });
        });

        return api;
    }

    /// <summary>
    /// An operator's revocation: the token is deleted whoever wrote it and its live sessions end cluster-wide with 4410
    /// (the removal path of a source, <see cref="ITokenGrain.RevokeByOperatorAsync"/>). The source's index forgets the
    /// token, so the token stays refused until its source writes it again (a token file's next change, the next Abiquo
    /// sync that still lists the VM); to keep a console shut, remove it at the source.
    /// </summary>
    private static async Task<IResult> RevokeTokenAsync(string token, IGrainFactory grains, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(AdminEndpoints).FullName!);
        if (!TokenText.IsWellFormed(token))
        {
            return Results.BadRequest(new { error = $"not a console token: 1 to {TokenText.MaxLength} printable ASCII characters without spaces" });
        }

        string? source;
        try
        {
            source = await grains.GetGrain<ITokenGrain>(token).RevokeByOperatorAsync().WaitAsync(NodeAnswerTimeout);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            return Results.Problem("The token store did not answer in time: try again in a few seconds; nothing was revoked.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (source is null)
        {
            LogRevokeUnknown(logger, TokenText.ForLog(token));
            return Results.NotFound(new { error = $"no console token {TokenText.ForLog(token)} is known: nothing to revoke (check the token, or it was already removed)" });
        }

        try
        {
            await new TokenIndex(grains).ForgetAsync(source, token).WaitAsync(NodeAnswerTimeout);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            // The token is revoked; only its return on the source's next unchanged load is lost: the next change brings it.
            LogIndexNotUpdated(logger, TokenText.ForLog(token), source);
        }

        LogRevokedByOperator(logger, TokenText.ForLog(token), source);
        return Results.Ok(new { revoked = TokenText.ForLog(token), source, closeCode = (int)Admission.CloseReasons.Revoked });
    }

    [LoggerMessage(EventId = EventIds.TokenRevokedByOperator, Level = LogLevel.Warning,
        Message = "Token {Token} (source {Source}) revoked by an operator: its live sessions close with 4410 and it is refused until its source writes it again")]
    private static partial void LogRevokedByOperator(ILogger logger, string token, string source);

    [LoggerMessage(EventId = EventIds.TokenRevokeUnknown, Level = LogLevel.Information,
        Message = "Revocation of token {Token} refused: no such token")]
    private static partial void LogRevokeUnknown(ILogger logger, string token);

    [LoggerMessage(EventId = EventIds.TokenRevokeIndexFailed, Level = LogLevel.Warning,
        Message = "Token {Token} revoked, but the index of source {Source} was not updated: the source brings it back only when its entry changes")]
    private static partial void LogIndexNotUpdated(ILogger logger, string token, string source);

    /// <summary>
    /// The node directory with a deadline: its grain may sit on a silo that just went silent, and until membership
    /// declares that silo dead (tens of seconds on a real network) a call would otherwise hang, then fail with a 500.
    /// </summary>
    private static async Task<List<NodeRegistration>?> NodesAsync(IGrainFactory grains)
    {
        try
        {
            return await grains.GetGrain<INodeDirectoryGrain>(NodeDirectory.Key).NodesAsync().WaitAsync(NodeAnswerTimeout);
        }
        catch (Exception exception) when (ClusterCall.Failed(exception))
        {
            return null;
        }
    }

    private static IResult DirectoryUnavailable() => Results.Problem(
        "The cluster's node directory did not answer in time (a node may have just failed): try again in a few seconds.",
        statusCode: StatusCodes.Status503ServiceUnavailable);
}
