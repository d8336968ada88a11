using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OrleansVncCluster.AbiquoSimulator.World;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>
/// The sync's Abiquo source against the simulator: an address that VMs of two enterprises report is an error once, when
/// it appears, and one warning per sync counts those still contested (7,700 errors a sync buried a big cloud's journal).
/// </summary>
public sealed class AbiquoTokenSourceTests : IClassFixture<SimulatorFixture>
{
    private readonly SimulatorFixture _fixture;

    public AbiquoTokenSourceTests(SimulatorFixture fixture)
    {
        _fixture = fixture;
        fixture.Reset();
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AContestedAddress_IsAnErrorOnce_AndEachSyncCountsItInOneWarning()
    {
        var logger = new FakeLogger<AbiquoTokenSource>();
        var source = new AbiquoTokenSource(_fixture.Client(), logger);
        var deployed = _fixture.AllVms().Where(view => view.Vm.VdrpIP is not null && view.Vm.VdrpPort > 0).ToList();
        var owner = deployed[0];
        var intruder = deployed.First(view => view.Enterprise.Id != owner.Enterprise.Id);
        var address = $"{owner.Vm.VdrpIP}:{owner.Vm.VdrpPort}";
        await source.LoadAsync(Cancel);
        var before = Count(logger).Contested;

        _fixture.Simulator.World.MoveVm(intruder.Vm.Id, new VmMove { VdrpIP = owner.Vm.VdrpIP, VdrpPort = owner.Vm.VdrpPort });
        logger.Collector.Clear();
        await source.LoadAsync(Cancel);

        var error = Assert.Single(logger.Collector.GetSnapshot(), record => record.Id.Id == EventIds.AbiquoAddressContested);
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Contains(address, error.Message, StringComparison.Ordinal);
        Assert.Equal((before + 1, 1, 0), Count(logger));

        logger.Collector.Clear();
        await source.LoadAsync(Cancel);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), record => record.Id.Id == EventIds.AbiquoAddressContested);
        Assert.Equal((before + 1, 0, 0), Count(logger));

        _fixture.Simulator.World.MoveVm(intruder.Vm.Id, new VmMove { VdrpIP = intruder.Vm.VdrpIP, VdrpPort = intruder.Vm.VdrpPort });
        logger.Collector.Clear();
        await source.LoadAsync(Cancel);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), record => record.Id.Id == EventIds.AbiquoAddressContested);
        Assert.Equal((before, 0, 1), Count(logger));
    }

    /// <summary>The last sync's warning: contested, new, resolved (all 0 when there was none).</summary>
    private static (int Contested, int Appeared, int Resolved) Count(FakeLogger logger)
    {
        var warnings = logger.Collector.GetSnapshot().Where(record => record.Id.Id == EventIds.AbiquoAddressesContested).ToList();
        if (warnings.Count == 0)
        {
            return (0, 0, 0);
        }

        var warning = Assert.Single(warnings);
        Assert.Equal(LogLevel.Warning, warning.Level);
        int Value(string name) => int.Parse(warning.StructuredState!.Single(pair => pair.Key == name).Value!, System.Globalization.CultureInfo.InvariantCulture);
        return (Value("Contested"), Value("Appeared"), Value("Resolved"));
    }
}
