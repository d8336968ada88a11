using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Turns Abiquo VMs into console tokens the legacy way: a VM with a non-empty <c>vdrpIP</c> and a <c>vdrpPort</c> in
/// 1-65535 gets token md5("vdrpIP:vdrpPort") (so Abiquo's own console page finds it); OFF VMs keep their port and their
/// token.
/// </summary>
/// <remarks>
/// When several VMs of one enterprise report the same IP:port (Abiquo reuses ports), the running one wins, else
/// the last listed, as later lines win in a websockify token file. When VMs of different enterprises report it, no token
/// is made: the token names an address, so "the running one wins" would open one tenant's screen from another tenant's
/// console button (an OFF VM of A and the running VM of B share the token).
/// </remarks>
public static class AbiquoTokens
{
    /// <summary>The token table source the Abiquo sync writes as.</summary>
    public const string SourceName = "abiquo";

    /// <summary>Builds the token set of <paramref name="vms"/>.</summary>
    /// <param name="vms">The inventory.</param>
    /// <param name="previous">The tokens of the last build, if any (see <see cref="AbiquoTokenBuilder"/>).</param>
    public static AbiquoTokenSet Build(IEnumerable<AbiquoVirtualMachine> vms, IReadOnlyDictionary<string, ConsoleTokenEntry>? previous = null)
    {
        var builder = new AbiquoTokenBuilder(previous, vms.TryGetNonEnumeratedCount(out var count) ? count : 0);
        builder.Add(vms);
        return builder.Finish();
    }
}
