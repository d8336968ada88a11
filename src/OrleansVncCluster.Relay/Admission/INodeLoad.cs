namespace OrleansVncCluster.Relay.Admission;

/// <summary>How many sessions this node carries now; the session registry (Sessions/) answers it for the capacity check.</summary>
public interface INodeLoad
{
    /// <summary>Live sessions on this node.</summary>
    int LiveSessions { get; }
}
