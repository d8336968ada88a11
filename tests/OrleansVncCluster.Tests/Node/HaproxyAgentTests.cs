using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Node;

/// <summary>
/// What the node tells HAProxy's agent-check. HAProxy's health check is /healthz, which answers while the start-up
/// rehearsal runs, so the agent keeps new sessions away ("drain") until the rehearsal is over.
/// </summary>
public sealed class HaproxyAgentTests
{
    [Fact]
    public async Task WhileARehearsalIsPending_TheAgentSaysDrain_ThenReadyOnceItIsOver()
    {
        // A listen address the rehearsal cannot use: it ends at once, as a finished or failed one does.
        var relay = new RelayOptions { StartupRehearsal = TimeSpan.FromSeconds(30), Listen = "not-an-address" };
        var (agent, rehearsal, _) = Agent(relay);

        Assert.True(rehearsal.Pending);
        Assert.Equal("drain", agent.Answer());

        await rehearsal.RunAsync(CancellationToken.None);

        Assert.False(rehearsal.Pending);
        Assert.Equal("ready", agent.Answer());
    }

    [Fact]
    public void WithoutARehearsal_TheAgentSaysReadyFromTheStart_AndDrainWhileDraining()
    {
        var (agent, rehearsal, drain) = Agent(new RelayOptions());

        Assert.False(rehearsal.Pending);
        Assert.Equal("ready", agent.Answer());

        drain.Start();

        Assert.Equal("drain", agent.Answer());
    }

    private static (HaproxyAgent Agent, StartupRehearsal Rehearsal, DrainState Drain) Agent(RelayOptions relay)
    {
        var drain = new DrainState();
        // The resolver is never asked: these rehearsals end before they relay anything.
        var rehearsal = new StartupRehearsal(new FixedOptions<RelayOptions>(relay), new SessionRehearsal(), null!, NullLogger<StartupRehearsal>.Instance);
        var agent = new HaproxyAgent(drain, rehearsal, Options.Create(relay), Options.Create(new AdmissionOptions()), null!, NullLogger<HaproxyAgent>.Instance);
        return (agent, rehearsal, drain);
    }
}
