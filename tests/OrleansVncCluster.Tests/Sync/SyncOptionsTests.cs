using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Sync;

public sealed class SyncOptionsTests
{
    [Theory]
    [InlineData(30, 12)]
    [InlineData(20, 10)]
    [InlineData(3600, 12)]
    [InlineData(6, 3)]
    public void DefaultBudget_IsHalfTheIntervalAtMostTwelveSeconds(int intervalSeconds, int budgetSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(budgetSeconds), new SyncOptions().BudgetFor(TimeSpan.FromSeconds(intervalSeconds)));

    [Fact]
    public void ConfiguredBudget_WinsOverTheInterval() =>
        Assert.Equal(TimeSpan.FromSeconds(25), new SyncOptions { ApplyBudget = TimeSpan.FromSeconds(25) }.BudgetFor(TimeSpan.FromHours(1)));

    [Fact]
    public void HundredThousandVmSync_IsPacedToFinishWithinTheBudget()
    {
        var pacing = new SyncOptions().PacingFor(84_200, TimeSpan.FromSeconds(30));

        Assert.True(pacing.IsPaced);
        Assert.Equal(16, pacing.Parallelism);
        Assert.Equal(12, 84_200 / pacing.WritesPerSecond, precision: 6);
    }

    /// <summary>A 1 % re-sync of 1,000,000 VMs (17,000 changes, half of them removals) runs at the floor, as fast as
    /// the node removes tokens, instead of being spread over the whole 12 s budget.</summary>
    [Fact]
    public void ReSyncOfSeventeenThousandChanges_RunsAtTheFloor()
    {
        var pacing = new SyncOptions().PacingFor(17_000, TimeSpan.FromSeconds(30));

        Assert.Equal(4000, pacing.WritesPerSecond);
        Assert.True(17_000 / pacing.WritesPerSecond < 5);
    }

    /// <summary>Warning 4101 is about the budget, not the floor's plan: 17,000 changes planned for 4.3 s at the floor
    /// that take 8.8 s are well within the 12 s budget; a sync that takes half again its budget and a second is late.</summary>
    [Theory]
    [InlineData(8.8, false)]
    [InlineData(18.9, false)]
    [InlineData(19.1, true)]
    [InlineData(178, true)]
    public void OverBudget_IsHalfAgainTheBudgetAndASecond(double elapsedSeconds, bool over) =>
        Assert.Equal(over, new SyncOptions().OverBudget(TimeSpan.FromSeconds(elapsedSeconds), TimeSpan.FromSeconds(30)));

    [Fact]
    public void OverBudget_FollowsAConfiguredBudget() =>
        Assert.True(new SyncOptions { ApplyBudget = TimeSpan.FromSeconds(2) }.OverBudget(TimeSpan.FromSeconds(4.1), TimeSpan.FromSeconds(30)));

    [Fact]
    public void Defaults_AreValid() => Assert.True(new SyncOptionsValidator().Validate(null, new SyncOptions()).Succeeded);

    [Fact]
    public void BadValues_AreRejectedWithTheKeyToFix()
    {
        var options = new SyncOptions { ApplyBudget = TimeSpan.FromSeconds(-1), MinWritesPerSecond = 0, ApplyParallelism = 0 };

        var result = new SyncOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Sync:ApplyBudget", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Sync:MinWritesPerSecond", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Sync:ApplyParallelism", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenSync_BindsTheSyncSectionAndRejectsBadValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Abiquo:ApiUrl"] = "http://127.0.0.1:1/api",
            ["Abiquo:User"] = "admin",
            ["Abiquo:Password"] = "secret",
            ["Sync:ApplyBudget"] = "00:00:25",
            ["Sync:ApplyParallelism"] = "0",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddTokenSync(configuration).BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SyncOptions>>().Value);

        Assert.Contains("Sync:ApplyParallelism 0", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Sync:ApplyBudget", failure.Message, StringComparison.Ordinal);
    }
}
