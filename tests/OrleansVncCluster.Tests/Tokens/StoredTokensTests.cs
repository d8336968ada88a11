using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>Reading a token grain's record straight from the "tokens" storage gives what the grain holds (issue 17's fallback).</summary>
public sealed class StoredTokensTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private static ConsoleTokenEntry Entry(int port) => new() { Target = ConsoleTarget.Tcp("10.0.0.2", port), Source = "stored-test" };

    private StoredTokens Reader => fixture.Stored;

    [Fact]
    public async Task AWrittenToken_ReadsBackFromStorage_AsTheGrainHoldsIt()
    {
        var token = "stored-" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Grains.GetGrain<ITokenGrain>(token).SetAsync(Entry(5911));

        var read = await Reader.ReadAsync(token, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.True(read.Succeeded);
        Assert.Equal(await fixture.Grains.GetGrain<ITokenGrain>(token).GetAsync(), read.Entry);
    }

    [Fact]
    public async Task ARemovedToken_ReadsAsNoRecord()
    {
        var token = "stored-" + Guid.NewGuid().ToString("N")[..8];
        var grain = fixture.Grains.GetGrain<ITokenGrain>(token);
        await grain.SetAsync(Entry(5912));
        await grain.RemoveAsync(null);

        var read = await Reader.ReadAsync(token, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(new StoredTokenRead(true, null), read);
    }

    [Fact]
    public async Task ATokenNeverWritten_ReadsAsNoRecord()
    {
        var read = await Reader.ReadAsync("stored-never-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(new StoredTokenRead(true, null), read);
    }

    [Fact]
    public async Task AnAdministratorsClose_IsInTheStoredRecord_SoASurvivorRefusesThatResumeFromStorage()
    {
        var token = "stored-" + Guid.NewGuid().ToString("N")[..8];
        var grain = fixture.Grains.GetGrain<ITokenGrain>(token);
        await grain.SetAsync(Entry(5913));
        var now = DateTimeOffset.UtcNow;
        await grain.ForbidResumeAsync("closed-session", now.AddMinutes(2));

        var read = await Reader.ReadAsync(token, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(false, StorageFallback.MayResume(read, "closed-session", now));
        Assert.Equal(true, StorageFallback.MayResume(read, "another-session", now));
        Assert.Equal(true, StorageFallback.MayResume(read, "closed-session", now.AddMinutes(3)));
        Assert.False(await grain.MayResumeAsync("closed-session"));
        Assert.Equal(read.Entry, await grain.GetAsync());
    }
}
