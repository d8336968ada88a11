using System.Collections;
using System.Reflection;
using Orleans.Serialization.Invocation;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Cluster;

/// <summary>
/// Orleans' pools of grain-call completion sources keep what a thread returns to them without a limit, and
/// <see cref="GrainCallPools"/> bounds them: a thread that only gives sources back (a pool thread reading the answers of
/// calls made on the socket threads) keeps at most the bound. An Orleans update that renames the pools fails here.
/// </summary>
public sealed class GrainCallPoolsTests
{
    private const int Returns = 1_000;

    [Fact]
    public void Bound_ReachesTheUntypedPoolAndThePoolsOfTheNodesResultTypes()
    {
        // The lease's answer comes from an inherited interface (ISessionLeaseHolder): its methods count too.
        var bounded = GrainCallPools.Bound([typeof(ITokenGrain), typeof(IClientSessionsGrain)]);

        Assert.True(bounded >= 3, $"{bounded} pools bounded");
        Assert.Equal(GrainCallPools.PerThread, GrainCallPools.BoundOf(GrainCallPools.UntypedPool!));
        // What a token lookup and a lease answer: the calls every session makes.
        Assert.Equal(GrainCallPools.PerThread, GrainCallPools.BoundOf(GrainCallPools.PoolOf(typeof(ConsoleTokenEntry))!));
        Assert.Equal(GrainCallPools.PerThread, GrainCallPools.BoundOf(GrainCallPools.PoolOf(typeof(bool))!));
    }

    [Fact]
    public async Task AThreadThatOnlyGivesBack_KeepsEverySourceUnbounded_AndAtMostTheBoundOnceBounded()
    {
        // Two result types of this test's own, so each starts from a pool nothing else in this process touched.
        Assert.Equal(Returns, await KeptAfterReturnsOnAnotherThreadAsync<UnboundedProbe>());

        Assert.True(GrainCallPools.BoundResult(typeof(BoundedProbe), perThread: 64));
        Assert.Equal(64, await KeptAfterReturnsOnAnotherThreadAsync<BoundedProbe>());
    }

    /// <summary>Takes <see cref="Returns"/> sources on this thread, gives them back on a thread of its own, and counts what
    /// that thread's stack keeps.</summary>
    private static async Task<int> KeptAfterReturnsOnAnotherThreadAsync<T>()
    {
        var taken = Enumerable.Range(0, Returns).Select(_ => ResponseCompletionSourcePool.Get<T>()).ToList();
        var kept = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var returner = new Thread(() =>
        {
            try
            {
                foreach (var source in taken)
                {
                    ResponseCompletionSourcePool.Return(source);
                }

                kept.SetResult(StackCountOnThisThread(GrainCallPools.PoolOf(typeof(T))!));
            }
            catch (Exception exception)
            {
                kept.SetException(exception);
            }
        });
        returner.Start();
        return await kept.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static int StackCountOnThisThread(object pool)
    {
        var perThread = pool.GetType().GetField("_objects", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(pool);
        var stack = perThread?.GetType().GetProperty("Value")?.GetValue(perThread) as ICollection;
        Assert.NotNull(stack);
        return stack.Count;
    }

    private readonly record struct UnboundedProbe(int Value);

    private readonly record struct BoundedProbe(int Value);
}
