using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>The console tokens of an inventory, and what did not become one.</summary>
/// <param name="Tokens">Token to entry.</param>
/// <param name="WithoutConsole">VMs with no console address (undeployed: no <c>vdrpIP</c> or port 0).</param>
/// <param name="SharedAddresses">VMs whose IP:port another VM of the same enterprise also reports; one entry per token is kept.</param>
/// <param name="Contested">IP:ports that VMs of different enterprises report: they get no token at all.</param>
public sealed record AbiquoTokenSet(IReadOnlyDictionary<string, ConsoleTokenEntry> Tokens, int WithoutConsole, int SharedAddresses,
    IReadOnlyList<ContestedAddress> Contested);
