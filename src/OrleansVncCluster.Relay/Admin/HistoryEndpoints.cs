using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// <c>GET /api/history?vm=&amp;user=&amp;client=&amp;since=&amp;until=&amp;limit=</c>: the session history of the whole
/// cluster (Audit/), newest first, from any node, behind the admin credential. A bad parameter is a 400 whose detail
/// names it; a store that does not answer in time is a 503.
/// </summary>
public static partial class HistoryEndpoints
{
    /// <summary>How long a query may take in the store before the caller gets a 503.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Maps /history on the admin API group.</summary>
    public static RouteHandlerBuilder MapHistory(this RouteGroupBuilder api) => api.MapGet("/history", QueryAsync);

    private static async Task<IResult> QueryAsync(HttpContext context, IAuditStore store, ILoggerFactory loggers)
    {
        if (AuditQuery.Parse(context.Request.Query, out var error) is not { } query)
        {
            return Results.Problem(error, statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(QueryTimeout);
            return Results.Ok(await store.QueryAsync(query, timeout.Token));
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException
            || (exception is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
        {
            LogQueryFailed(loggers.CreateLogger(typeof(HistoryEndpoints).FullName!), exception.GetType().Name);
            return Results.Problem("The session history store (Redis) did not answer in time: try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    [LoggerMessage(EventId = EventIds.AuditQueryFailed, Level = LogLevel.Warning,
        Message = "Session history query failed ({Error}); answered 503")]
    private static partial void LogQueryFailed(ILogger logger, string error);
}
