using OrleansVncCluster.Relay.Node;

namespace OrleansVncCluster.Tests.Node;

/// <summary>When the start-up rehearsal may stop: the JIT quiet under load, twice in a row, not before its least time.</summary>
public sealed class JitQuietTests
{
    private static readonly TimeSpan Busy = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan Little = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void TwoQuietLoadedWindowsInARow_AreQuiet_OneIsNot()
    {
        var judge = new JitQuiet();

        Assert.False(judge.Observe(Seconds(1), Busy, 800));
        Assert.False(judge.Observe(Seconds(2), Busy, 800));
        Assert.False(judge.Observe(Seconds(3), Busy, 800));
        Assert.False(judge.Observe(Seconds(4), Little, 800));
        Assert.True(judge.Observe(Seconds(5), Little, 790));
    }

    [Fact]
    public void AQuietWindowWhoseSessionsStalled_IsNoEvidence_AndStartsTheCountAgain()
    {
        var judge = new JitQuiet();
        judge.Observe(Seconds(1), Busy, 800);
        judge.Observe(Seconds(2), Busy, 800);

        // The Redis-backed node of the full run: little compiled because little ran.
        Assert.False(judge.Observe(Seconds(3), Little, 300));
        Assert.False(judge.Observe(Seconds(4), Little, 120));
        Assert.False(judge.Observe(Seconds(5), Little, 0));
        Assert.False(judge.Observe(Seconds(6), Little, 700));
        Assert.True(judge.Observe(Seconds(7), Little, 650));
    }

    [Fact]
    public void AWindowThatCompiles_BreaksTheRun()
    {
        var judge = new JitQuiet();
        judge.Observe(Seconds(1), Busy, 800);

        Assert.False(judge.Observe(Seconds(4), Little, 800));
        Assert.False(judge.Observe(Seconds(5), JitQuiet.QuietJitPerWindow, 800));
        Assert.False(judge.Observe(Seconds(6), Little, 800));
        Assert.True(judge.Observe(Seconds(7), Little, 800));
    }

    [Fact]
    public void NeverQuiet_BeforeItsLeastTime()
    {
        var judge = new JitQuiet();

        Assert.False(judge.Observe(Seconds(1), Little, 800));
        Assert.False(judge.Observe(Seconds(2), Little, 800));
        Assert.True(judge.Observe(JitQuiet.Least, Little, 800));
    }

    private static TimeSpan Seconds(int seconds) => TimeSpan.FromSeconds(seconds);
}
