namespace OrleansVncCluster.AbiquoSimulator;

/// <summary>Entry point of the Abiquo API simulator.</summary>
public static class Program
{
    /// <summary>Runs the simulator.</summary>
    public static int Main(string[] args) => args.Length >= 0 ? 0 : 1;
}
