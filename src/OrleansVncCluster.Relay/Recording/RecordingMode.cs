namespace OrleansVncCluster.Relay.Recording;

/// <summary>Whether sessions are recorded (Recording:Mode for the cluster, Recording:Enterprises:NAME for one enterprise).</summary>
public enum RecordingMode
{
    /// <summary>Not recorded, unless the ticket asks for it (and Recording:AllowPerTicket lets it).</summary>
    Off,

    /// <summary>Recorded when the recorder can; a session it cannot record still opens, and the failure is logged and counted.</summary>
    On,

    /// <summary>Recorded, or refused: a session that cannot be recorded never opens unrecorded.</summary>
    Required,
}
