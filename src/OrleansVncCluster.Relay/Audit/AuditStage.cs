namespace OrleansVncCluster.Relay.Audit;

/// <summary>Which write of a record this is.</summary>
public enum AuditStage
{
    /// <summary>The session started: the record is open (no end), so a crash leaves it open for a survivor to close.</summary>
    Opened,

    /// <summary>The session runs on: its counters so far, so a crash loses at most one checkpoint interval of them.</summary>
    Checkpoint,

    /// <summary>The session ended: end, close code and reason, final counters.</summary>
    Closed,
}
