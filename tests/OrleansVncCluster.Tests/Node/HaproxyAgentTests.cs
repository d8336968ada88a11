using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Node;

/// <summary>
/// What the node tells HAProxy's agent-check. HAProxy's health check is /healthz, which answers from the node's first
/// seconds, while its start (token files, the start-up rehearsal, the start's collection) may run for 20 s more, so the
/// agent keeps new sessions away ("drain") until the start is over, as /readyz does.
/// </summary>
public sealed class HaproxyAgentTests
{
    [Fact]
    public async Task UntilTheNodesStartIsOver_TheAgentSaysDrain_ThenReady()
    {
        var (lifetime, _, start) = await StartupHeapTests.StartAsync(new TokenOptions());
        var (agent, _) = Agent(start);

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
        var (lifetime, _, start) = await StartupHeapTests.StartAsync(new TokenOptions());
        var (agent, drain) = Agent(start);
        lifetime.Started.Cancel();
        await StartupHeapTests.Eventually(() => start.Settled, "the start is over once the host started");
        Assert.Equal("ready", agent.Answer());

        drain.Start();

        Assert.Equal("drain", agent.Answer());
        await start.StopAsync(CancellationToken.None);
    }

    private static (HaproxyAgent Agent, DrainState Drain) Agent(StartupHeap start)
    {
        var drain = new DrainState();
        var agent = new HaproxyAgent(drain, start, Options.Create(new RelayOptions()), Options.Create(new AdmissionOptions()), null!, NullLogger<HaproxyAgent>.Instance);
        return (agent, drain);
    }
}
