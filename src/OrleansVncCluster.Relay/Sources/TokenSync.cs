namespace OrleansVncCluster.Relay.Sources;

/// <summary>Constants of the token sync.</summary>
public static class TokenSync
{
    /// <summary>The sync grain is a cluster singleton under this key.</summary>
    public const long Key = 0;

    /// <summary>The reminder that re-activates the grain after its silo died (reminders are durable, timers are not).</summary>
    public const string ReminderName = "token-sync";

    /// <summary>Reminder period; Orleans' minimum. The keeper usually brings the grain back much sooner.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait between retries after failures.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
}
