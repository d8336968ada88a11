using Microsoft.AspNetCore.Routing.Matching;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>
/// Keeps admin endpoints to the connection's local port, not the Host header: <c>RequireHost("*:8082")</c> matched a
/// request on the public listener that said <c>Host: anything:8082</c> (issue 12, item 5). A request on another port
/// finds no endpoint, so the public listener answers 404 before authentication is even asked.
/// </summary>
public sealed class AdminPortPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    /// <summary>Runs with the other routing policies (before the host policy, which orders itself at -100).</summary>
    public override int Order => -200;

    /// <inheritdoc />
    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(endpoint => endpoint.Metadata.GetMetadata<AdminPortMetadata>() is not null);

    /// <inheritdoc />
    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var localPort = httpContext.Connection.LocalPort;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint.Metadata.GetMetadata<AdminPortMetadata>() is { } admin && admin.Port != localPort)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
