using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;
using OrleansVncCluster.Tests.Sessions;

namespace OrleansVncCluster.Tests.Node;

/// <summary>
/// What the node tells HAProxy's agent-check. HAProxy's health check is /healthz, which answers from the node's first
/// seconds, while its start (token files, the start-up rehearsal, the start's collection) may run for 20 s more, so the
/// agent keeps new sessions away ("drain") until the start is over, as /readyz does, unless the node is alone in its
/// cluster: HAProxy would then have no server at all, and answer 503 instead of a slower first session.
/// </summary>
public sealed class HaproxyAgentTests
{
    private static readonly SiloAddress Self = new FakeSilo().SiloAddress;
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    [Fact]
    public async Task UntilTheNodesStartIsOver_TheAgentSaysDrain_ThenReady()
    {
        var (lifetime, files, start) = await StartupHeapTests.StartAsync(new TokenOptions());
        var (agent, _) = Agent(start, files, new Membership(Members.OtherNodeActive));

        Assert.False(start.Settled);
        Assert.Equal("drain", agent.Answer());

        lifetime.Started.Cancel();
        await StartupHeapTests.Eventually(() => start.Settled, "the start is over once the host started");

        Assert.Equal("ready", agent.Answer());
        await start.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task OnceStarted_TheAgentSaysDrainWhileDraining()
    {
        var (lifetime, files, start) = await StartupHeapTests.StartAsync(new TokenOptions());
        var (agent, drain) = Agent(start, files, new Membership(Members.Alone));
        lifetime.Started.Cancel();
        await StartupHeapTests.Eventually(() => start.Settled, "the start is over once the host started");
        Assert.Equal("ready", agent.Answer());

        drain.Start();

        Assert.Equal("drain", agent.Answer());
        await start.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ANodeAloneInItsCluster_SaysReadyDuringItsStart_OnceItsSiloIsActiveAndItsTokenFilesRead_ButDrainWhileDraining()
    {
        var (_, files, start) = await StartupHeapTests.StartAsync(new TokenOptions { Files = ["tokens.cfg"] });
        var membership = new Membership(Members.Joining);
        var (agent, drain) = Agent(start, files, membership);
        Assert.False(start.Settled);

        // Before its silo is active it cannot know whether it is alone.
        Assert.Equal("drain", agent.Answer());

        // Before its token files are read its users would get 4404.
        membership.Snapshot = Snapshot(Members.Alone);
        Assert.Equal("drain", agent.Answer());

        files.MarkDone();
        Assert.Equal("ready", agent.Answer());

        // Another node active, or one that is only joining or has died, changes nothing else.
        membership.Snapshot = Snapshot(Members.OtherNodeActive);
        Assert.Equal("drain", agent.Answer());
        membership.Snapshot = Snapshot(Members.OtherNodeDead);
        Assert.Equal("ready", agent.Answer());

        drain.Start();
        Assert.Equal("drain", agent.Answer());
        await start.StopAsync(CancellationToken.None);
    }

    /// <summary>What the membership table holds besides this node (always listed, active unless joining).</summary>
    private enum Members
    {
        Joining,
        Alone,
        OtherNodeActive,
        OtherNodeDead,
    }

    private static ClusterMembershipSnapshot Snapshot(Members members)
    {
        var table = ImmutableDictionary.CreateBuilder<SiloAddress, ClusterMember>();
        table[Self] = new ClusterMember(Self, members == Members.Joining ? SiloStatus.Joining : SiloStatus.Active, "self");
        if (members is Members.OtherNodeActive or Members.OtherNodeDead)
        {
            table[Other] = new ClusterMember(Other, members == Members.OtherNodeActive ? SiloStatus.Active : SiloStatus.Dead, "other");
        }

        return new ClusterMembershipSnapshot(table.ToImmutable(), new MembershipVersion(1));
    }

    private static (HaproxyAgent Agent, DrainState Drain) Agent(StartupHeap start, TokenFilesLoaded files, Membership membership)
    {
        var drain = new DrainState();
        var agent = new HaproxyAgent(drain, start, files, membership, new FakeSilo(), Options.Create(new RelayOptions()), Options.Create(new AdmissionOptions()), null!,
            NullLogger<HaproxyAgent>.Instance);
        return (agent, drain);
    }

    /// <summary>The membership the agent reads: only its current snapshot.</summary>
    private sealed class Membership(Members members) : IClusterMembershipService
    {
        public ClusterMembershipSnapshot Snapshot { get; set; } = HaproxyAgentTests.Snapshot(members);

        public ClusterMembershipSnapshot CurrentSnapshot => Snapshot;

        public IAsyncEnumerable<ClusterMembershipSnapshot> MembershipUpdates => throw new NotSupportedException();

        public ValueTask Refresh(MembershipVersion minimumVersion = default, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> TryKill(SiloAddress siloAddress) => throw new NotSupportedException();
    }
}
