namespace OrleansVncCluster.Relay.Admission;

/// <summary>A draining node takes no new sessions: 1013, so the browser retries and HAProxy sends it elsewhere.</summary>
public sealed class DrainCheck(DrainState drain) : IAdmissionCheck
{
    /// <inheritdoc/>
    public ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult<Refusal?>(drain.IsDraining ? new Refusal(CloseReasons.TryAgainLater, CloseReasons.DrainingText, "draining") : null);
}
