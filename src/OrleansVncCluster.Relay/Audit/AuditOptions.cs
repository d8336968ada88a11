using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Audit;

/// <summary>The session history (configuration section "Audit"): how long records are kept and how they are written.</summary>
public sealed class AuditOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Audit";

    /// <summary>How long a record is kept after its last write (Redis key expiry and index trim).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Record writes waiting for the background writer at most; beyond it writes are dropped and counted.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>How often a live session's record is rewritten with its counters, so a crash loses at most this much of them.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Without Redis (embedded mode): the newest records kept in memory; older ones are forgotten.</summary>
    public int MemoryRecords { get; set; } = 10_000;
}

/// <summary>Checks <see cref="AuditOptions"/> at start-up, each message saying what to fix.</summary>
internal sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options)
    {
        var errors = new List<string>();
        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(3650))
        {
            errors.Add($"Audit:Retention '{options.Retention}' must be between 01:00:00 and 3650.00:00:00 (ten years), e.g. 90.00:00:00 for 90 days");
        }

        if (options.QueueCapacity is < 100 or > 1_000_000)
        {
            errors.Add($"Audit:QueueCapacity '{options.QueueCapacity}' must be between 100 and 1000000, e.g. 10000");
        }

        if (options.CheckpointInterval < TimeSpan.FromSeconds(1) || options.CheckpointInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"Audit:CheckpointInterval '{options.CheckpointInterval}' must be between 00:00:01 and 01:00:00, e.g. 00:01:00");
        }

        if (options.MemoryRecords is < 100 or > 1_000_000)
        {
            errors.Add($"Audit:MemoryRecords '{options.MemoryRecords}' must be between 100 and 1000000, e.g. 10000");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
