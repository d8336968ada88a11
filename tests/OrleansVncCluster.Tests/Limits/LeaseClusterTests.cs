using Orleans.Runtime;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Sync;
using OrleansVncCluster.Tests.Tokens;

namespace OrleansVncCluster.Tests.Limits;

/// <summary>The lease grains on a 2-silo in-process cluster (its own instance of the token tests' fixture).</summary>
public sealed class LeaseClusterTests(TokenClusterFixture fixture) : IClassFixture<TokenClusterFixture>
{
    private SiloAddress Silo(int index) => fixture.Cluster.Silos[index].SiloAddress;

    [Fact]
    public async Task ClientGrain_CountsLeasesFromEveryNode_AndAReleaseFreesASlot()
    {
        var client = fixture.Grains.GetGrain<IClientSessionsGrain>("192.0.2.10");

        Assert.True(await client.AcquireLeaseAsync("s1", Silo(0), 2));
        Assert.True(await client.AcquireLeaseAsync("s2", Silo(1), 2));
        Assert.False(await client.AcquireLeaseAsync("s3", Silo(0), 2));
        await client.ReleaseLeaseAsync("s1");
        Assert.True(await client.AcquireLeaseAsync("s3", Silo(1), 2));
        Assert.Equal(2, await client.LeaseCountAsync());
    }

    [Fact]
    public async Task TokenGrain_CountsTheTokensSessions_BesideItsEntry()
    {
        var token = fixture.Grains.GetGrain<ITokenGrain>("lease-token");
        await token.SetAsync(new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("10.0.0.1", 5901), Source = "test" });

        Assert.True(await token.AcquireLeaseAsync("t1", Silo(0), 1));
        Assert.False(await token.AcquireLeaseAsync("t2", Silo(1), 1));
        Assert.NotNull(await token.GetAsync());
        await token.ReleaseLeaseAsync("t1");
        Assert.True(await token.AcquireLeaseAsync("t2", Silo(1), 1));
    }

    [Fact]
    public async Task LeasesOfANodeThatLeftTheCluster_StopCounting()
    {
        // The grain is activated first, on one of the two lasting silos, so it outlives the node that goes away.
        var client = fixture.Grains.GetGrain<IClientSessionsGrain>("192.0.2.20");
        Assert.True(await client.AcquireLeaseAsync("kept", Silo(0), 3));
        var leaving = await fixture.Cluster.StartAdditionalSiloAsync();
        Assert.True(await client.AcquireLeaseAsync("gone-1", leaving.SiloAddress, 3));
        Assert.True(await client.AcquireLeaseAsync("gone-2", leaving.SiloAddress, 3));
        Assert.False(await client.AcquireLeaseAsync("refused", Silo(1), 3));

        await fixture.Cluster.StopSiloAsync(leaving);

        await Eventually.ThatAsync(async () => await client.LeaseCountAsync() == 1, TimeSpan.FromSeconds(30),
            "the stopped node's two leases were not dropped");
        Assert.True(await client.AcquireLeaseAsync("after", Silo(1), 3));
    }
}
