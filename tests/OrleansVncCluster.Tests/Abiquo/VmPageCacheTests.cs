using OrleansVncCluster.AbiquoSimulator.Api;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The simulator's kept VM lists: only for the world they were written from, and never over their bound.</summary>
public sealed class VmPageCacheTests
{
    private static readonly VmPageCache.Key First = new(1, false, 0, null, "http://127.0.0.1:8780/api");
    private static readonly VmPageCache.Key Second = First with { EnterpriseId = 2 };

    [Fact]
    public void AList_IsFoundOnlyForTheWorldItWasWrittenFrom()
    {
        var cache = new VmPageCache(1_000);
        cache.Keep(First, revision: 5, [1, 2, 3]);

        Assert.Equal([1, 2, 3], cache.Find(First, 5));
        Assert.Null(cache.Find(First, 6));
        Assert.Null(cache.Find(First with { BaseUrl = "https://abiquo.example/api" }, 5));
        Assert.Null(cache.Find(First with { Paged = true, Count = 25 }, 5));
        Assert.Equal(1, cache.Served);
    }

    [Fact]
    public void AListOfANewerWorld_DropsTheOlderOnes_AndAnOlderOneIsNotKeptAfterIt()
    {
        var cache = new VmPageCache(1_000);
        cache.Keep(First, 5, new byte[100]);
        cache.Keep(Second, 5, new byte[200]);

        cache.Keep(First, 6, new byte[50]);
        cache.Keep(Second, 5, new byte[300]);

        Assert.Null(cache.Find(Second, 5));
        Assert.NotNull(cache.Find(First, 6));
        Assert.Equal(50, cache.Bytes);
    }

    [Fact]
    public void AListOverTheBound_IsNotKept_AndTheSameListAgainReplacesItself()
    {
        var cache = new VmPageCache(1_000);
        cache.Keep(First, 1, new byte[600]);
        cache.Keep(Second, 1, new byte[600]);
        cache.Keep(First, 1, new byte[700]);

        Assert.Null(cache.Find(Second, 1));
        Assert.Equal(700, cache.Find(First, 1)!.Length);
        Assert.Equal(700, cache.Bytes);
    }
}
