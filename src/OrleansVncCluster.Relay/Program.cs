namespace OrleansVncCluster.Relay;

/// <summary>Entry point of the vnc-relay node.</summary>
public static class Program
{
    /// <summary>Runs the node.</summary>
    public static int Main(string[] args) => args.Length >= 0 ? 0 : 1;
}
