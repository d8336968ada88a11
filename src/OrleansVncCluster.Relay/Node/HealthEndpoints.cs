using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Relay.Node;

/// <summary>Liveness and readiness, the contract with HAProxy and Kubernetes.</summary>
public static class HealthEndpoints
{
    /// <summary>
    /// <c>/healthz</c>: 200 while the process serves, draining included (HAProxy's check would otherwise cut live
    /// sessions); never touches grains or Redis. <c>/readyz</c>: 200 only when the local silo is Active in the cluster
    /// and the node is not draining, once its own token files were read (<see cref="TokenFilesLoaded"/>), the node
    /// directory listed it (<see cref="DirectoryRegistration"/>) and its start's garbage was collected
    /// (<see cref="StartupHeap"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/readyz", (IClusterMembershipService membership, ILocalSiloDetails silo, DrainState drain, TokenFilesLoaded files,
            DirectoryRegistration registration, StartupHeap heap) =>
        {
            if (drain.IsDraining)
            {
                return Results.Text("draining\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            if (!files.Done)
            {
                return Results.Text("token files loading\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            if (!registration.Done)
            {
                return Results.Text("joining the node directory\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            if (!heap.Settled)
            {
                return Results.Text("warming up (start-up rehearsal, then garbage collection)\n", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return status == SiloStatus.Active
                ? Results.Text("ready\n")
                : Results.Text($"silo {status.ToString().ToLowerInvariant()}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        return endpoints;
    }
}
