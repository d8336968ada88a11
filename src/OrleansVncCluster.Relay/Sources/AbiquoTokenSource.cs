using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>The VMs of every Abiquo enterprise, as console tokens (see <see cref="AbiquoTokens"/>).</summary>
internal sealed partial class AbiquoTokenSource(AbiquoClient client, ILogger<AbiquoTokenSource> logger) : ITokenSource
{
    public string Name => AbiquoTokens.SourceName;

    public async Task<IReadOnlyDictionary<string, ConsoleTokenEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        var inventory = await client.GetVirtualMachinesAsync(cancellationToken);
        var set = AbiquoTokens.Build(inventory.VirtualMachines);
        LogLoaded(logger, set.Tokens.Count, inventory.VirtualMachines.Count, inventory.Enterprises, set.WithoutConsole, set.SharedAddresses,
            inventory.Requests, inventory.Elapsed.TotalMilliseconds);
        return set.Tokens;
    }

    [LoggerMessage(EventId = EventIds.AbiquoTokensWritten, Level = LogLevel.Debug,
        Message = "Abiquo gave {Tokens} console tokens from {Vms} VMs of {Enterprises} enterprises ({WithoutConsole} without a console, {Shared} sharing an IP:port) in {Requests} requests, {ElapsedMs:0} ms")]
    private static partial void LogLoaded(ILogger logger, int tokens, int vms, int enterprises, int withoutConsole, int shared, int requests, double elapsedMs);
}
