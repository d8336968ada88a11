using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Tokens;

namespace OrleansVncCluster.Tests.Cluster;

/// <summary>
/// <see cref="GrainKeys.ForKey{T}"/> makes the reference Orleans' GetGrain makes (the same grain, the same interface),
/// from the types resolved once, so a call through it reaches the same activation and state.
/// </summary>
public sealed class GrainKeysTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    [Fact]
    public void TheReference_NamesTheGrainAndInterfaceGetGrainNames_ForEveryKeyAndEachInterface()
    {
        foreach (var key in new[] { "keys-first", "Keys-Second", "keys-ünïcode-✓", "keys " + new string('x', 300) })
        {
            AssertSame(fixture.Grains.GetGrain<ITokenGrain>(key), fixture.Grains.ForKey<ITokenGrain>(key));
            AssertSame(fixture.Grains.GetGrain<IClientSessionsGrain>(key), fixture.Grains.ForKey<IClientSessionsGrain>(key));
        }

        Assert.NotEqual(((GrainReference)fixture.Grains.ForKey<ITokenGrain>("keys-a")).GrainId,
            ((GrainReference)fixture.Grains.ForKey<ITokenGrain>("keys-b")).GrainId);
    }

    [Fact]
    public async Task ACallThroughTheReference_ReachesTheGrainGetGrainReaches()
    {
        var key = "Keys-Call-" + Guid.NewGuid().ToString("N")[..8];
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.7", 5907), Source = "test" };
        _ = fixture.Grains.ForKey<ITokenGrain>("keys-warm");

        Assert.True(await fixture.Grains.ForKey<ITokenGrain>(key).SetAsync(entry));
        Assert.Equal(entry.Target, (await fixture.Grains.GetGrain<ITokenGrain>(key).GetAsync())!.Target);
        Assert.Equal(entry.Target, (await fixture.Grains.ForKey<ITokenGrain>(key).GetAsync())!.Target);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void ABlankKey_IsRefused_AsGetGrainRefusesIt(string key)
    {
        _ = fixture.Grains.ForKey<ITokenGrain>("keys-warm");
        Assert.ThrowsAny<ArgumentException>(() => fixture.Grains.GetGrain<ITokenGrain>(key));
        Assert.ThrowsAny<ArgumentException>(() => fixture.Grains.ForKey<ITokenGrain>(key));
    }

    private static void AssertSame(IAddressable expected, IAddressable actual)
    {
        var (made, ours) = ((GrainReference)expected, (GrainReference)actual);
        Assert.Equal(made.GrainId, ours.GrainId);
        Assert.Equal(made.InterfaceType, ours.InterfaceType);
        Assert.Equal(expected.GetType(), actual.GetType());
    }
}
