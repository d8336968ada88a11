using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Tests.Audit;

public sealed class AuditOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndKeepRecords90Days()
    {
        var options = new AuditOptions();

        Assert.True(new AuditOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromDays(90), options.Retention);
    }

    [Theory]
    [InlineData("00:59:59")]
    [InlineData("3651.00:00:00")]
    [InlineData("00:00:00")]
    public void RetentionOutOfRange_FailsStartUp_SayingWhatToGive(string retention)
    {
        var result = new AuditOptionsValidator().Validate(null, new AuditOptions { Retention = TimeSpan.Parse(retention, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Audit:Retention", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("e.g. 90.00:00:00", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryBadSetting_IsReportedAtOnce()
    {
        var result = new AuditOptionsValidator().Validate(null, new AuditOptions
        {
            QueueCapacity = 10, CheckpointInterval = TimeSpan.Zero, MemoryRecords = 5_000_000,
        });

        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("Audit:QueueCapacity", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Audit:CheckpointInterval", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Audit:MemoryRecords", StringComparison.Ordinal));
    }
}
