using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>
/// A bulk apply (a sync) creates the records of tokens new to its source straight in storage, without a grain call, and
/// still ends where writing through the grains would: every token readable, other sources' tokens written through their
/// grains, an activation that held no entry catching up (issue 17: a 1,000,000-VM sync without 834,000 activations).
/// </summary>
public sealed class TokenCreateInStorageTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private TokenTable Table => new(fixture.Grains, TimeProvider.System, fixture.Stored);

    private static TokenApplyPacing Bulk(int changes) => TokenApplyPacing.ForBudget(changes, TimeSpan.Zero, 1000, 8);

    [Fact]
    public async Task NewTokens_AreCreatedInStorage_WithoutACallToTheirGrains_AndOpenAfterwards()
    {
        var (source, desired) = NewSet("create", 25);
        var before = DateTimeOffset.UtcNow;

        var result = await Table.ApplyAsync(await Table.PlanAsync(source, desired), Bulk(25), CancellationToken.None);

        Assert.Equal((25, 0, 0), (result.Written, result.Removed, result.Failed));
        Assert.All(desired.Keys, token => Assert.Equal(0, fixture.CallsOf("SetAsync", token)));
        foreach (var (token, wanted) in desired)
        {
            var read = await fixture.Stored.ReadAsync(token, Patience, CancellationToken.None);
            Assert.True(read.Succeeded);
            Assert.True(wanted.SameContentAs(read.Entry), $"the stored record of {token} is not the entry the sync wanted");
            Assert.InRange(read.Entry!.SetAt, before, DateTimeOffset.UtcNow);
            Assert.Equal(read.Entry, await fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync());
        }

        var again = await Table.PlanAsync(source, desired);
        Assert.Equal((0, 25), (again.Upserts.Count, again.Unchanged));
    }

    [Fact]
    public async Task ATokenThatHasARecord_IsWrittenThroughItsGrain()
    {
        var (source, desired) = NewSet("taken", 3);
        var taken = desired.Keys.First();
        var grain = fixture.Grains.GetGrain<ITokenGrain>(taken);
        Assert.True(await grain.SetAsync(new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.9.9.9", 5999), Source = "token-file" }));

        var result = await Table.ApplyAsync(await Table.PlanAsync(source, desired), Bulk(3), CancellationToken.None);

        Assert.Equal((3, 0), (result.Written, result.Failed));
        Assert.Equal(2, fixture.CallsOf("SetAsync", taken));
        var entry = await grain.GetAsync();
        Assert.Equal((desired[taken].Target, source), (entry!.Target, entry.Source));
        Assert.All(desired.Keys.Skip(1), token => Assert.Equal(0, fixture.CallsOf("SetAsync", token)));
    }

    [Fact]
    public async Task AnActivationHoldingNoEntry_SeesATokenCreatedInStorageAfterIt()
    {
        var token = "empty-" + Guid.NewGuid().ToString("N");
        var grain = fixture.Grains.GetGrain<ITokenGrain>(token);
        // A presence call activates the grain and keeps it: it read "no record" before the token existed.
        await grain.PresenceAsync("a-lease");
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.7", 5907), Source = "late", SetAt = DateTimeOffset.UtcNow };

        Assert.True(await fixture.Stored.TryCreateAsync(token, entry));

        Assert.Equal(entry, await grain.GetAsync());
        // Its version is current too: a later write through the grain lands instead of failing the storage's check.
        Assert.True(await grain.SetAsync(entry with { Target = ConsoleTarget.Tcp("10.0.0.7", 5908) }));
        Assert.Equal(5908, (await fixture.Stored.ReadAsync(token, Patience, CancellationToken.None)).Entry!.Target.Port);
    }

    [Fact]
    public async Task CreatingWhereARecordExists_WritesNothing()
    {
        var token = "exists-" + Guid.NewGuid().ToString("N");
        var first = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.8", 5901), Source = "one" };
        Assert.True(await fixture.Stored.TryCreateAsync(token, first));

        Assert.False(await fixture.Stored.TryCreateAsync(token, first with { Target = ConsoleTarget.Tcp("10.0.0.8", 5902), Source = "two" }));

        Assert.Equal(first, (await fixture.Stored.ReadAsync(token, Patience, CancellationToken.None)).Entry);
    }

    [Fact]
    public async Task ARemovedToken_IsCreatedAgainInStorage_WhenItsSourceWantsItBack()
    {
        var (source, desired) = NewSet("back", 2);
        await Table.ApplyAsync(await Table.PlanAsync(source, desired), Bulk(2), CancellationToken.None);
        await Table.ApplyAsync(await Table.PlanAsync(source, new Dictionary<string, ConsoleTokenEntry>()), Bulk(2), CancellationToken.None);
        Assert.All(await Task.WhenAll(desired.Keys.Select(token => fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync())), Assert.Null);

        var result = await Table.ApplyAsync(await Table.PlanAsync(source, desired), Bulk(2), CancellationToken.None);

        Assert.Equal((2, 0), (result.Written, result.Failed));
        Assert.All(desired.Keys, token => Assert.Equal(0, fixture.CallsOf("SetAsync", token)));
        foreach (var (token, wanted) in desired)
        {
            Assert.True(wanted.SameContentAs(await fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync()));
        }
    }

    private static (string Source, Dictionary<string, ConsoleTokenEntry> Tokens) NewSet(string prefix, int count) =>
        TokenTablePacingTests.NewSet(prefix, count);
}
