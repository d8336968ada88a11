using Microsoft.Extensions.Time.Testing;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Sync;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary><see cref="TokenTable"/> applying a plan paced on a fake clock, against real token grains.</summary>
public sealed class TokenTablePacingTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task PacedApply_WritesTheWholeSetButNoFasterThanItsRate()
    {
        var time = new FakeTimeProvider();
        var table = new TokenTable(fixture.Grains, time);
        var (source, desired) = NewSet("paced", 30);
        var plan = await table.PlanAsync(source, desired);

        var apply = table.ApplyAsync(plan, new TokenApplyPacing(4, 10), CancellationToken.None);

        // At 10 writes/s the 30th write is due 2.9 s after the first: nothing can finish before the clock gets there,
        // and by 1 s at most 11 tokens can exist.
        Advance(time, TimeSpan.FromSeconds(1));
        Assert.InRange(await CountExistingAsync(desired.Keys), 0, 11);
        Advance(time, TimeSpan.FromSeconds(1.8));
        Assert.False(apply.IsCompleted, "the apply finished before the last write was due");
        var result = await AdvanceUntilDoneAsync(time, apply);

        Assert.Equal((30, 0, 0), (result.Written, result.Removed, result.Failed));
        Assert.Equal(30, await CountExistingAsync(desired.Keys));
        var again = await table.PlanAsync(source, desired);
        Assert.Equal((0, 30), (again.Upserts.Count, again.Unchanged));
    }

    [Fact]
    public async Task PacedApply_LeavesNoActivationBehindForNewTokens()
    {
        var table = new TokenTable(fixture.Grains, TimeProvider.System);
        var (source, desired) = NewSet("rest", 20);
        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        var ids = desired.Keys.Select(token => fixture.Grains.GetGrain<ITokenGrain>(token).GetGrainId()).ToHashSet();

        await table.ApplyAsync(await table.PlanAsync(source, desired), TokenApplyPacing.ForBudget(20, TimeSpan.Zero, 1000, 4), CancellationToken.None);

        await Eventually.ThatAsync(async () => !(await management.GetActiveGrains(ids.First().Type)).Any(ids.Contains),
            Patience, "the grains of tokens written by a paced apply stayed active");
        Assert.Equal(20, await CountExistingAsync(desired.Keys));
    }

    [Fact]
    public async Task CancelledApply_LeavesAnIndexFromWhichTheNextRoundCleansUp()
    {
        var time = new FakeTimeProvider();
        var table = new TokenTable(fixture.Grains, time);
        var (source, old) = NewSet("cancel-old", 2);
        await table.ReplaceSourceAsync(source, old, CancellationToken.None);
        var (_, added) = NewSet("cancel-new", 20);
        var desired = new Dictionary<string, ConsoleTokenEntry>(added) { [old.Keys.First()] = old.Values.First() };
        desired = desired.ToDictionary(pair => pair.Key, pair => pair.Value with { Source = source });
        var plan = await table.PlanAsync(source, desired);
        Assert.Equal((20, 1), (plan.Upserts.Count, plan.Removals.Count));
        using var cancellation = new CancellationTokenSource();

        var apply = table.ApplyAsync(plan, new TokenApplyPacing(1, 10), cancellation.Token);
        Advance(time, TimeSpan.FromSeconds(0.5));
        await Eventually.ThatAsync(async () => await CountExistingAsync(added.Keys) > 0, Patience, "no paced write landed");
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => apply);
        var written = await CountExistingAsync(added.Keys);
        Assert.InRange(written, 1, 6);
        var next = await table.PlanAsync(source, desired);
        Assert.Equal(20 - written, next.Upserts.Count);
        // Writes and removals are mixed: the removal was done or not, and the index says which.
        var removed = await CountExistingAsync([old.Keys.Last()]) == 0;
        Assert.Equal(removed ? [] : [old.Keys.Last()], next.Removals);

        // The source now wants nothing: every token this source ever wrote goes, including those of the stopped apply.
        await table.ReplaceSourceAsync(source, new Dictionary<string, ConsoleTokenEntry>(), CancellationToken.None);
        Assert.Equal(0, await CountExistingAsync(added.Keys.Concat(old.Keys)));
    }

    /// <summary>A fresh source and <paramref name="count"/> tokens of it, each to its own port.</summary>
    internal static (string Source, Dictionary<string, ConsoleTokenEntry> Tokens) NewSet(string prefix, int count)
    {
        var source = prefix + "-" + Guid.NewGuid().ToString("N");
        var tokens = Enumerable.Range(0, count).ToDictionary(
            i => $"{source}-{i}",
            i => new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.1", 5900 + i), Source = source },
            StringComparer.Ordinal);
        return (source, tokens);
    }

    private async Task<int> CountExistingAsync(IEnumerable<string> tokens)
    {
        var entries = await Task.WhenAll(tokens.Select(token => fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync()));
        return entries.Count(entry => entry is not null);
    }

    private static void Advance(FakeTimeProvider time, TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += Step)
        {
            time.Advance(Step);
        }
    }

    /// <summary>Moves the fake clock on until the apply ends (each step releases the writes due by then).</summary>
    private static async Task<TokenApplyResult> AdvanceUntilDoneAsync(FakeTimeProvider time, Task<TokenApplyResult> apply)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!apply.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the paced apply did not finish within {Patience.TotalSeconds:0} s");
            time.Advance(Step);
            await Task.WhenAny(apply, Task.Delay(10, TestContext.Current.CancellationToken));
        }

        return await apply;
    }
}
