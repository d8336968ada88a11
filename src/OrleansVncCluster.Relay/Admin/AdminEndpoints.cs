using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// The admin surface, on the admin listener only: drain, the cluster's live sessions, and closing one. Every /api call
/// needs "Authorization: Bearer TOKEN"; with no token configured the API refuses everything (no default credentials).
/// </summary>
public static class AdminEndpoints
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

        api.MapGet("/sessions", async (IGrainFactory grains) =>
        {
            if (await NodesAsync(grains) is not { } nodes)
            {
                return DirectoryUnavailable();
            }

            var lists = await NodeFanOut.AskEveryAsync(nodes, node => node.ListSessionsAsync(), NodeAnswerTimeout, fallback: []);
            return Results.Ok(new { nodes = nodes.Select(n => n.Name).Order(StringComparer.Ordinal), sessions = lists.SelectMany(l => l).OrderBy(s => s.StartedAt) });
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
