using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Tests.Tickets;
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
    public async Task RehearsalSessions_TakeTheirClientLeaseOnAGrainOfTheirOwn_WithoutTheClientLimit()
    {
        // A limit of one a client: the rehearsal's sessions from 192.0.2.30 all pass, and the address's own grain is left
        // untouched, so its user's first session is admitted.
        var silo = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<ILocalSiloDetails>();
        var check = new LeaseCheck(fixture.Grains, silo, new TestOptions<LimitsOptions>(new LimitsOptions { MaxSessionsPerClient = 1, MaxSessionsPerToken = 0 }),
            new TestOptions<TicketOptions>(new TicketOptions { ResumeWindow = TimeSpan.Zero }), NullLogger<LeaseCheck>.Instance);
        var rehearsals = Enumerable.Range(0, 3).Select(_ => new AdmissionContext("192.0.2.30", null, "", "relay.example") { Rehearsal = true, ClientKey = "192.0.2.30" }).ToList();

        foreach (var rehearsal in rehearsals)
        {
            Assert.Null(await check.CheckAsync(rehearsal, CancellationToken.None));
        }

        var rehearsalGrain = fixture.Grains.GetGrain<IClientSessionsGrain>(LeaseCheck.RehearsalClientKey);
        Assert.Equal(3, await rehearsalGrain.LeaseCountAsync());
        Assert.Equal(0, await fixture.Grains.GetGrain<IClientSessionsGrain>("192.0.2.30").LeaseCountAsync());
        var user = new AdmissionContext("192.0.2.30", null, "", "relay.example") { ClientKey = "192.0.2.30" };
        Assert.Null(await check.CheckAsync(user, CancellationToken.None));
        Assert.Equal(1, await fixture.Grains.GetGrain<IClientSessionsGrain>("192.0.2.30").LeaseCountAsync());

        // Ending the rehearsal's sessions gives their leases back.
        rehearsals.ForEach(rehearsal => rehearsal.Release());
        await Eventually.ThatAsync(async () => await rehearsalGrain.LeaseCountAsync() == 0, TimeSpan.FromSeconds(10), "the rehearsal's leases were not given back");
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
