using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>A 1-silo cluster with memory storage that counts the calls each token grain receives, by method.</summary>
public sealed class CountingTokenClusterFixture : IAsyncLifetime
{
    /// <summary>Calls received, keyed "method token" (for example "SetAsync t1").</summary>
    public static ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public StoredTokens Stored => new(Cluster.Silos[0].ServiceProvider, Grains);

    public static int CallsOf(string method, string token) => Calls.GetValueOrDefault(method + " " + token);

    public async ValueTask InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(TokenStorage.Name);
            silo.AddMemoryGrainStorage(TicketStorage.Name);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.AddIncomingGrainCallFilter(context =>
            {
                if (context.Grain is ITokenGrain && context.InterfaceMethod is { } method)
                {
                    Calls.AddOrUpdate(method.Name + " " + context.TargetId.Key, 1, (_, count) => count + 1);
                }

                return context.Invoke();
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// A bulk apply (a sync) creates the records of tokens new to its source straight in storage, without a grain call, and
/// still ends where writing through the grains would: every token readable, other sources' tokens written through their
/// grains, an activation that held no entry catching up (issue 17: a 1,000,000-VM sync without 834,000 activations).
/// </summary>
public sealed class TokenCreateInStorageTests(CountingTokenClusterFixture fixture) : IClassFixture<CountingTokenClusterFixture>
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
        Assert.All(desired.Keys, token => Assert.Equal(0, CountingTokenClusterFixture.CallsOf("SetAsync", token)));
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
        Assert.Equal(2, CountingTokenClusterFixture.CallsOf("SetAsync", taken));
        var entry = await grain.GetAsync();
        Assert.Equal((desired[taken].Target, source), (entry!.Target, entry.Source));
        Assert.All(desired.Keys.Skip(1), token => Assert.Equal(0, CountingTokenClusterFixture.CallsOf("SetAsync", token)));
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
        Assert.All(desired.Keys, token => Assert.Equal(0, CountingTokenClusterFixture.CallsOf("SetAsync", token)));
        foreach (var (token, wanted) in desired)
        {
            Assert.True(wanted.SameContentAs(await fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync()));
        }
    }

    private static (string Source, Dictionary<string, ConsoleTokenEntry> Tokens) NewSet(string prefix, int count) =>
        TokenTablePacingTests.NewSet(prefix, count);
}
