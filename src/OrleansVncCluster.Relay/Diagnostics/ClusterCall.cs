namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>The one test for "the cluster call failed": use it in the filter of every catch around a grain or observer call.</summary>
public static class ClusterCall
{
    /// <summary>
    /// True for the failures a grain call can end with that callers answer rather than crash on: the deadline the
    /// caller set passed (<see cref="TimeoutException"/>, from <c>WaitAsync</c> or Orleans' response timeout), or Orleans
    /// could not deliver or complete it (<see cref="OrleansException"/>, which includes SiloUnavailableException and a
    /// failed storage write's InconsistentStateException).
    /// </summary>
    public static bool Failed(Exception exception) => exception is TimeoutException or OrleansException;
}
