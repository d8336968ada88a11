using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Node;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Node;

/// <summary>What the start-up rehearsal does when the node's settings leave it nothing it could relay (the sessions
/// themselves run in the integration tests, through a real node).</summary>
public sealed class StartupRehearsalTests
{
    [Fact]
    public async Task RequireTls_TheRehearsalDoesNotStart_AndItsWarningSaysWhy()
    {
        var logger = new FakeLogger<StartupRehearsal>();
        // No token resolver and no key ring: a rehearsal that went on to its sessions would fail on them.
        var rehearsal = new StartupRehearsal(
            new FixedOptions<RelayOptions>(new RelayOptions { StartupRehearsal = TimeSpan.FromSeconds(30), Listen = "127.0.0.1:6080" }),
            Options.Create(new TargetOptions { RequireTls = true }),
            Options.Create(new AbiquoOptions()),
            new SessionRehearsal(),
            resolver: null!,
            keys: null!,
            TimeProvider.System,
            logger);

        await rehearsal.RunAsync(CancellationToken.None);

        var warning = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(EventIds.StartupRehearsalFailed, warning.Id.Id);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Targets:RequireTls", warning.Message, StringComparison.Ordinal);
        Assert.Contains("the node goes on to ready", warning.Message, StringComparison.Ordinal);
    }
}
