using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sync;

public sealed class MassRemovalGuardTests
{
    private static TokenPlan Plan(int previous, int removals, params string[] desired) =>
        new("abiquo", new Dictionary<string, ConsoleTokenEntry>(), [.. Enumerable.Range(0, removals).Select(i => $"gone-{i}")], 0, previous,
            ShardedIndex.From(desired.ToDictionary(t => t, _ => "fp", StringComparer.Ordinal)));

    [Fact]
    public void FirstSync_IsApplied() => Assert.Equal(GuardDecision.Apply, new MassRemovalGuard().Check(Plan(0, 0, "a"), 0.5));

    [Fact]
    public void RemovingUpToTheShare_IsApplied() => Assert.Equal(GuardDecision.Apply, new MassRemovalGuard().Check(Plan(10, 5, "a"), 0.5));

    [Fact]
    public void RemovingMoreThanTheShare_IsHeldUntilTheSameAnswerComesAgain()
    {
        var guard = new MassRemovalGuard();

        Assert.Equal(GuardDecision.Hold, guard.Check(Plan(10, 6, "a"), 0.5));
        Assert.Equal(GuardDecision.ApplyConfirmed, guard.Check(Plan(10, 6, "a"), 0.5));
    }

    [Fact]
    public void ADifferentAnswer_IsHeldAgain()
    {
        var guard = new MassRemovalGuard();

        Assert.Equal(GuardDecision.Hold, guard.Check(Plan(10, 10), 0.5));
        Assert.Equal(GuardDecision.Hold, guard.Check(Plan(10, 9, "a"), 0.5));
        Assert.Equal(GuardDecision.ApplyConfirmed, guard.Check(Plan(10, 9, "a"), 0.5));
    }

    [Fact]
    public void AnOrdinaryAnswerInBetween_ResetsTheHold()
    {
        var guard = new MassRemovalGuard();

        Assert.Equal(GuardDecision.Hold, guard.Check(Plan(10, 10), 0.5));
        Assert.Equal(GuardDecision.Apply, guard.Check(Plan(10, 0, "a"), 0.5));
        Assert.Equal(GuardDecision.Hold, guard.Check(Plan(10, 10), 0.5));
    }
}
