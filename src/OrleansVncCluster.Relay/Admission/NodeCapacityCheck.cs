using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>Relay:MaxSessions: a full node refuses with 4429 (HAProxy's agent check already steers new clients away).</summary>
public sealed class NodeCapacityCheck(INodeLoad load, IOptionsMonitor<AdmissionOptions> options) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken)
    {
        var cap = options.CurrentValue.MaxSessions;
        return ValueTask.FromResult<Refusal?>(cap > 0 && load.LiveSessions >= cap ? new Refusal(CloseReasons.TooMany, CloseReasons.NodeFullText, "node_full") : null);
    }
}
