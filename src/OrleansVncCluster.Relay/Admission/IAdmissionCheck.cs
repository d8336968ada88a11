namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// One small step of admission (<see cref="AdmissionPipeline"/>): it answers admit (null) or a <see cref="Refusal"/>,
/// and may record what it found or took in the <see cref="AdmissionContext"/> for the steps after it.
/// </summary>
public interface IAdmissionCheck
{
    /// <summary>Null to go on to the next check; a refusal ends admission.</summary>
    ValueTask<Refusal?> CheckAsync(AdmissionContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the node's own start-up rehearsal (<see cref="AdmissionContext.Rehearsal"/>) goes through this check: the
    /// pipeline leaves a check that says false out of rehearsal sessions. True unless the check says why not.
    /// </summary>
    bool AppliesToRehearsal => true;
}
