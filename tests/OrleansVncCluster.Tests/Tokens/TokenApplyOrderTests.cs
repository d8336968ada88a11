using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>An apply mixes writes and removals evenly, so removals (slower, through their grains) share the whole pace.</summary>
public sealed class TokenApplyOrderTests
{
    [Theory]
    [InlineData(3, 9)]
    [InlineData(8650, 8350)]
    [InlineData(1, 1)]
    [InlineData(0, 5)]
    [InlineData(5, 0)]
    [InlineData(0, 0)]
    public void WritesAndRemovals_AreMixedEvenly_EachInItsOwnOrder(int writes, int removals)
    {
        var (first, second) = (Enumerable.Range(0, writes).Select(i => $"w{i}").ToList(), Enumerable.Range(0, removals).Select(i => $"r{i}").ToList());

        var mixed = TokenTable.Interleave(first, writes, second, removals).ToList();

        Assert.Equal(first, mixed.Where(item => item[0] == 'w'));
        Assert.Equal(second, mixed.Where(item => item[0] == 'r'));
        var taken = 0;
        for (var i = 0; i < mixed.Count; i++)
        {
            // After any number of items, the writes among them are their share of all, give or take one.
            taken += mixed[i][0] == 'w' ? 1 : 0;
            var share = (double)(i + 1) * writes / (writes + removals);
            Assert.InRange(taken, share - 1, share + 1);
        }
    }

    [Fact]
    public void ThreeWritesAndNineRemovals_GiveOneWriteInEveryFour()
    {
        var mixed = TokenTable.Interleave(["w0", "w1", "w2"], 3, Enumerable.Range(0, 9).Select(i => $"r{i}"), 9);

        Assert.Equal("r0 r1 r2 w0 r3 r4 r5 w1 r6 r7 r8 w2", string.Join(' ', mixed));
    }
}
