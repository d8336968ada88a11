namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// <c>GET /api/sync</c> (status) and <c>POST /api/sync</c> (sync now, answers with the status afterwards). They carry no
/// authentication of their own: map them inside the admin surface, which does.
/// </summary>
public static class SyncEndpoints
{
    /// <summary>Longest a POST waits for the sync; the sync itself goes on if this passes.</summary>
    private static readonly TimeSpan SyncNowWait = TimeSpan.FromMinutes(2);

    /// <summary>Longest a GET waits for the status (the grain answers status calls even during a sync).</summary>
    private static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(10);

    /// <summary>Maps the endpoints under <paramref name="prefix"/>; pass <c>"/sync"</c> when mapping inside an <c>/api</c> group.</summary>
    public static RouteGroupBuilder MapSyncEndpoints(this IEndpointRouteBuilder endpoints, string prefix = "/api/sync")
    {
        var group = endpoints.MapGroup(prefix);
        group.MapGet("", (IGrainFactory grains, CancellationToken cancellationToken) =>
            AnswerAsync(grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).GetStatusAsync(), StatusWait, cancellationToken));
        group.MapPost("", (IGrainFactory grains, CancellationToken cancellationToken) =>
            AnswerAsync(grains.GetGrain<ITokenSyncGrain>(TokenSync.Key).SyncNowAsync(), SyncNowWait, cancellationToken));
        return group;
    }

    private static async Task<IResult> AnswerAsync(Task<SyncStatus> call, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            return Results.Ok(await call.WaitAsync(wait, cancellationToken));
        }
        catch (TimeoutException)
        {
            return Results.Problem($"The token sync did not answer within {wait.TotalSeconds:0} s; it goes on in the background: GET /api/sync later.",
                statusCode: StatusCodes.Status504GatewayTimeout);
        }
        catch (OrleansException exception)
        {
            return Results.Problem($"The token sync grain is unreachable: {exception.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
