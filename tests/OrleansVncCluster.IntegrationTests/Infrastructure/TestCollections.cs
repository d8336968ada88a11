using OrleansVncCluster.IntegrationTests.Infrastructure;

// One collection for the whole assembly: the real-process tests share the host (its package database, systemd, X
// displays, network namespaces, CPU that timing-sensitive tests need), so they run one class at a time, as before.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]

namespace OrleansVncCluster.IntegrationTests.Infrastructure;

/// <summary>
/// The few classes that run beside that one collection (xunit.runner.json allows two at once): they spend most of
/// their minute waiting on purpose (a Redis outage held for 30 s, intruders left to give up joining), own every process
/// they start (their own redis-server, nodes on free ports, no display, no namespace) and assert nothing about time.
/// </summary>
public static class WaitingCollections
{
    /// <summary>Cluster/RedisOutageTests.</summary>
    public const string RedisOutage = "waits out a 30 s Redis outage";

    /// <summary>Cluster/SiloTlsTests.</summary>
    public const string SiloTls = "waits for intruders to give up joining";
}
