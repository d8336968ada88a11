using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void RentsWholeBlocks_AndRefusesAskingForMoreThanABlock()
    {
        using var pool = new LargeBlockMemoryPool();

        using var block = pool.Rent();

        Assert.Equal(RelayOptions.BufferBytes, block.Memory.Length);
        Assert.Equal(RelayOptions.BufferBytes, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(RelayOptions.BufferBytes + 1));
    }

    [Fact]
    public void KeepsAtMostMaxRetainedBlocks_TheRestGoToTheCollector()
    {
        using var pool = new LargeBlockMemoryPool();
        var burst = Enumerable.Range(0, LargeBlockMemoryPool.MaxRetained + 44).Select(_ => pool.Rent()).ToList();
        foreach (var block in burst)
        {
            block.Dispose();
        }

        var again = Enumerable.Range(0, burst.Count).Select(_ => pool.Rent()).ToList();

        var reused = again.Count(burst.ToHashSet<object>(ReferenceEqualityComparer.Instance).Contains);
        Assert.Equal(LargeBlockMemoryPool.MaxRetained, reused);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ADisposedPool_KeepsNoBlock_ReturnedBeforeItWasDisposedOrAfter(bool returnedBefore)
    {
        var pool = new LargeBlockMemoryPool();
        var block = pool.Rent();

        if (returnedBefore)
        {
            block.Dispose();
            pool.Dispose();
        }
        else
        {
            pool.Dispose();
            block.Dispose();
        }

        Assert.NotSame(block, pool.Rent());
    }
}
