using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.Tests.Sync;

/// <summary>The sync survives the loss of the silo that runs it.</summary>
public sealed class SyncFailoverTests(SyncClusterFixture fixture) : IClassFixture<SyncClusterFixture>
{
    [Fact]
    public async Task StoppingTheSilosThatRunsTheSync_MovesItAndSyncingGoesOn()
    {
        await fixture.WaitForAllTokensAsync();
        var host = (await fixture.StatusAsync()).Host;
        var silo = fixture.Cluster.Silos.Single(s => s.Name == host);

        await fixture.Cluster.StopSiloAsync(silo);
        var vm = fixture.Simulator.Simulator.World.AddVm(new NewVm { VdrpIP = "10.97.0.1", VdrpPort = 5970 }).Vm;

        await Eventually.ThatAsync(async () => await fixture.TokenAsync(SyncClusterFixture.TokenOf(vm)) is not null,
            SyncClusterFixture.Patience, "no sync ran after the sync's silo stopped");
        Assert.NotEqual(host, (await fixture.StatusAsync()).Host);
    }
}
