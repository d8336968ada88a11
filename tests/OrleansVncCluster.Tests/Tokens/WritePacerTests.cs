using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

public sealed class WritePacerTests
{
    [Fact]
    public void Turns_AreHandedOutNoFasterThanTheRate()
    {
        var time = new FakeTimeProvider();
        var pacer = new WritePacer(10, time);
        var turns = Enumerable.Range(0, 25).Select(_ => pacer.WaitTurnAsync(CancellationToken.None).AsTask()).ToList();

        Assert.Equal(1, turns.Count(t => t.IsCompleted));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(11, turns.Count(t => t.IsCompleted));
        time.Advance(TimeSpan.FromSeconds(1.4));
        Assert.All(turns, t => Assert.True(t.IsCompletedSuccessfully));
    }

    [Fact]
    public void TurnsThatFellBehind_GoAtOnceWithoutABurstBeyondTheSchedule()
    {
        var time = new FakeTimeProvider();
        var pacer = new WritePacer(10, time);
        time.Advance(TimeSpan.FromSeconds(1));

        var turns = Enumerable.Range(0, 15).Select(_ => pacer.WaitTurnAsync(CancellationToken.None).AsTask()).ToList();

        // Turns 0-10 were due by now; the rest keep their places on the schedule.
        Assert.Equal(11, turns.Count(t => t.IsCompleted));
    }

    [Fact]
    public void Unpaced_NeverWaits()
    {
        var pacer = new WritePacer(double.PositiveInfinity, new FakeTimeProvider());

        Assert.All(Enumerable.Range(0, 1000), _ => Assert.True(pacer.WaitTurnAsync(CancellationToken.None).IsCompletedSuccessfully));
    }

    [Fact]
    public async Task CancelledWait_EndsWithCancellation()
    {
        var time = new FakeTimeProvider();
        var pacer = new WritePacer(1, time);
        using var cancellation = new CancellationTokenSource();
        await pacer.WaitTurnAsync(cancellation.Token);
        var second = pacer.WaitTurnAsync(cancellation.Token).AsTask();

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
    }

    [Theory]
    [InlineData(84_200, 20, 4210)]
    [InlineData(10, 20, 1000)]
    public void ForBudget_SpreadsOverTheBudgetButNeverBelowTheFloor(int changes, int budgetSeconds, double expectedRate)
    {
        var pacing = TokenApplyPacing.ForBudget(changes, TimeSpan.FromSeconds(budgetSeconds), 1000, 4);

        Assert.Equal(expectedRate, pacing.WritesPerSecond, precision: 6);
        Assert.Equal(4, pacing.Parallelism);
    }

    [Fact]
    public void ForBudget_ZeroBudgetMeansUnpaced() =>
        Assert.False(TokenApplyPacing.ForBudget(84_200, TimeSpan.Zero, 1000, 4).IsPaced);
}
