using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Tests.Cluster;

/// <summary>The admin API's session list: each session says how many others watch its VM (issue 13, item 3).</summary>
public sealed class SessionInfoTests
{
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
