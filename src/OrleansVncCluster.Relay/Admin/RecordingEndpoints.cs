using OrleansVncCluster.Relay.Audit;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Recording;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// <c>GET /api/recordings?vm=&amp;user=&amp;client=&amp;since=&amp;until=&amp;limit=</c>: the cluster's recordings, newest first,
/// from any node; <c>GET /api/recordings/{id}</c>: one entry, or with <c>Accept: application/octet-stream</c> its file;
/// <c>GET /api/recordings/{id}/file</c>: its file, fetched from the node that wrote it (docs/RECORDING.md). Behind the
/// admin credential, as the history is.
/// </summary>
public static partial class RecordingEndpoints
{
    /// <summary>The media type of a recording file.</summary>
    public const string FileMediaType = "application/octet-stream";

    /// <summary>Maps /recordings on the admin API group.</summary>
    public static RouteGroupBuilder MapRecordings(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/recordings", QueryAsync);
        api.MapGet("/recordings/{id}", GetAsync);
        api.MapGet("/recordings/{id}/file", (string id, IRecordingFiles files, HttpContext context) => FileAsync(id, files, context));
        return api;
    }

    private static async Task<IResult> QueryAsync(HttpContext context, IRecordingIndex index, ClusterRecordingFiles files, ILoggerFactory loggers)
    {
        if (AuditQuery.Parse(context.Request.Query, out var error) is not { } query)
        {
            return Results.Problem(error, statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(HistoryEndpoints.QueryTimeout);
            return Results.Ok(await files.MarkCutAsync(await index.QueryAsync(query, timeout.Token), timeout.Token));
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException
            || exception is OrleansException || (exception is OperationCanceledException && !context.RequestAborted.IsCancellationRequested))
        {
            LogQueryFailed(loggers.CreateLogger(typeof(RecordingEndpoints).FullName!), exception.GetType().Name);
            return Results.Problem("The recordings index (Redis) did not answer in time: try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IRecordingIndex index, IRecordingFiles files, ClusterRecordingFiles cluster)
    {
        if (context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(FileMediaType, StringComparison.OrdinalIgnoreCase)))
        {
            return await FileAsync(id, files, context);
        }

        return await index.GetAsync(id, context.RequestAborted) is { } entry
            ? Results.Ok((await cluster.MarkCutAsync([entry], context.RequestAborted))[0])
            : Results.Problem($"No recording {Shorten(id)} is known to the cluster (unknown, or deleted by Recording:Retention).", statusCode: StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> FileAsync(string id, IRecordingFiles files, HttpContext context) =>
        await files.OpenAsync(id, context.RequestAborted) is { } stream
            ? Results.File(stream, FileMediaType, id + RecordingFormat.FileExtension, enableRangeProcessing: true)
            : Results.Problem($"No node holds recording {Shorten(id)} (unknown, deleted by Recording:Retention, or its node is gone).", statusCode: StatusCodes.Status404NotFound);

    private static string Shorten(string id) => id.Length <= 64 ? id : id[..64] + "...";

    [LoggerMessage(EventId = EventIds.RecordingQueryFailed, Level = LogLevel.Warning,
        Message = "Recordings query failed ({Error}); answered 503")]
    private static partial void LogQueryFailed(ILogger logger, string error);
}
