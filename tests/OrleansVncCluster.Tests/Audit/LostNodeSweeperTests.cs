using System.Collections.Immutable;
using System.Net;
using OrleansVncCluster.Relay.Audit;

namespace OrleansVncCluster.Tests.Audit;

/// <summary>Which silos' open records a survivor closes as "node lost", and which survivor does it.</summary>
public sealed class LostNodeSweeperTests
{
    private static readonly SiloAddress First = Silo(11111, 100);
    private static readonly SiloAddress Second = Silo(11112, 100);
    private static readonly SiloAddress Dead = Silo(11113, 100);
    private static readonly SiloAddress Joining = Silo(11114, 100);

    [Fact]
    public void TheFirstActiveSilo_ClosesTheDeadSilosRecords_NotTheLiveOnesNorItsOwn()
    {
        var snapshot = Snapshot((First, SiloStatus.Active), (Second, SiloStatus.Active), (Dead, SiloStatus.Dead), (Joining, SiloStatus.Joining));

        var lost = LostNodeSweeper.LostSilos(snapshot, First, Open(First, Second, Dead, Joining));

        Assert.Equal([Dead.ToParsableString()], lost);
    }

    [Fact]
    public void AnotherActiveSilo_LeavesTheSweepToTheFirst()
    {
        var snapshot = Snapshot((First, SiloStatus.Active), (Second, SiloStatus.Active), (Dead, SiloStatus.Dead));

        Assert.Empty(LostNodeSweeper.LostSilos(snapshot, Second, Open(Dead)));
    }

    [Fact]
    public void ASiloReplacedByANewerProcessOnItsAddress_IsLost_EvenIfMembershipNeverDeclaredItDead()
    {
        var before = Silo(11112, 50);
        var unknownElsewhere = Silo(11119, 50);
        var snapshot = Snapshot((First, SiloStatus.Active), (Second, SiloStatus.Active));

        var lost = LostNodeSweeper.LostSilos(snapshot, First, Open(before, unknownElsewhere));

        Assert.Equal([before.ToParsableString()], lost);
    }

    [Fact]
    public void AnUnreadableEntry_IsSkipped()
    {
        var snapshot = Snapshot((First, SiloStatus.Active), (Dead, SiloStatus.Dead));

        Assert.Equal([Dead.ToParsableString()], LostNodeSweeper.LostSilos(snapshot, First, ["not a silo", Dead.ToParsableString()]));
    }

    private static SiloAddress Silo(int port, int generation) => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation);

    private static string[] Open(params SiloAddress[] silos) => [.. silos.Select(s => s.ToParsableString())];

    private static ClusterMembershipSnapshot Snapshot(params (SiloAddress Silo, SiloStatus Status)[] members) =>
        new(members.ToImmutableDictionary(m => m.Silo, m => new ClusterMember(m.Silo, m.Status, m.Silo.ToString())), new MembershipVersion(1));
}
