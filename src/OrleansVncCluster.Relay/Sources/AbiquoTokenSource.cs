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
        foreach (var contested in set.Contested)
        {
            LogContested(logger, contested.Address, string.Join(", ", contested.Vms));
        }

        return set.Tokens;
    }

    [LoggerMessage(EventId = EventIds.AbiquoAddressContested, Level = LogLevel.Error,
        Message = "Abiquo reports console address {Address} for VMs of different enterprises ({Vms}): no token is published for it until only one enterprise reports it")]
    private static partial void LogContested(ILogger logger, string address, string vms);

    [LoggerMessage(EventId = EventIds.AbiquoTokensWritten, Level = LogLevel.Debug,
        Message = "Abiquo gave {Tokens} console tokens from {Vms} VMs of {Enterprises} enterprises ({WithoutConsole} without a console, {Shared} sharing an IP:port) in {Requests} requests, {ElapsedMs:0} ms")]
    private static partial void LogLoaded(ILogger logger, int tokens, int vms, int enterprises, int withoutConsole, int shared, int requests, double elapsedMs);
}
