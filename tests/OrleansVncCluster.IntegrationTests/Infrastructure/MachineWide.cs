namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// Test classes that use the machine as a whole: they install packages, start systemd, build with make, or create
/// bridges and network namespaces. They run one at a time, after the other classes, which run two at a time beside each
/// other (xunit.runner.json): those share nothing but the machine's CPUs, since every port (<see cref="Ports"/>), X
/// display, loopback source address and temporary folder they use is theirs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MachineWide
{
    public const string Name = "machine-wide";
}
