using System.Net;
using OrleansVncCluster.Relay.Cluster;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>What a token's leases tell the console page: whether its session lives, and how many others watch.</summary>
public sealed class LeasePresenceTests
{
    private static readonly SiloAddress NodeA = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress NodeB = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Owner_SeesTheOtherViewSessions_NotItselfNorOtherControllers()
    {
        var book = new LeaseBook();
        SiloStatus Alive(SiloAddress _) => SiloStatus.Active;
        book.TryAcquire("owner", NodeA, int.MaxValue, Alive, Now);
        book.TryAcquire("second-owner", NodeB, int.MaxValue, Alive, Now);
        book.TryAcquire("viewer-1", NodeA, int.MaxValue, Alive, Now, viewOnly: true);
        book.TryAcquire("viewer-2", NodeB, int.MaxValue, Alive, Now, viewOnly: true);

        Assert.Equal(new LeasePresence(true, 2, 4), book.Presence("owner", Alive, Now));
        Assert.Equal(new LeasePresence(true, 1, 4), book.Presence("viewer-1", Alive, Now));
    }

    [Fact]
    public void AnEndedSession_OrOneOnADeadNode_IsNotLive()
    {
        var book = new LeaseBook();
        var bDead = false;
        SiloStatus Status(SiloAddress silo) => silo.Equals(NodeB) && bDead ? SiloStatus.Dead : SiloStatus.Active;
        book.TryAcquire("ended", NodeA, 10, Status, Now);
        book.TryAcquire("on-b", NodeB, 10, Status, Now, viewOnly: true);
        book.Release("ended");

        Assert.False(book.Presence("ended", Status, Now).Live);
        Assert.True(book.Presence("on-b", Status, Now).Live);
        bDead = true;
        Assert.Equal(new LeasePresence(false, 0, 0), book.Presence("on-b", Status, Now));
    }

    [Fact]
    public void SessionList_CountsEachSessionsViewersOfTheSameConsole()
    {
        static SessionInfo Session(string id, string console, string role) =>
            new() { Id = id, Node = "n", TokenPrefix = "t", Target = "x", Client = "c", Role = role, ConsoleKey = console };
        SessionInfo[] sessions =
        [
            Session("owner-a", "vm-a", "control"), Session("view-a1", "vm-a", "view"), Session("view-a2", "vm-a", "view"),
            Session("owner-b", "vm-b", "control"), Session("old-node", null!, "view"),
        ];

        var viewers = SessionInfo.WithViewers(sessions).ToDictionary(s => s.Id, s => s.Viewers);

        Assert.Equal(new Dictionary<string, int> { ["owner-a"] = 2, ["view-a1"] = 1, ["view-a2"] = 1, ["owner-b"] = 0, ["old-node"] = 0 }, viewers);
    }
}
