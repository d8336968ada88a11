using System.Globalization;
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
    /// <param name="previous">The tokens of the last build, if any: where a VM's token and entry are the same as there,
    /// that token string and entry are used again (with the entry's fingerprint). A re-sync of 1,000,000 VMs then keeps
    /// the objects of the 99 % that did not change, which the collector has already promoted, instead of making
    /// 834,000 new entries that live through the sync and are promoted twice before a full collection frees the old.</param>
    public static AbiquoTokenSet Build(IEnumerable<AbiquoVirtualMachine> vms, IReadOnlyDictionary<string, ConsoleTokenEntry>? previous = null)
    {
        // Sized once: growing to 100,000 entries would copy the large-object-heap arrays several times over.
        var capacity = vms.TryGetNonEnumeratedCount(out var count) ? count : 0;
        var tokens = new Dictionary<string, ConsoleTokenEntry>(capacity, StringComparer.Ordinal);
        var running = new HashSet<string>(capacity, StringComparer.Ordinal);
        // Only for addresses reported more than once: every VM that reported each, in inventory order. One pass, so a
        // contested address (7,700 of them in the 1,000,000-VM bench) no longer costs a second hashing of every VM.
        Dictionary<string, List<(string? Enterprise, string? Id)>>? reporters = null;
        var withoutConsole = 0;
        // The last build's tokens, looked up by the token's text on the stack. Any other dictionary: nothing is reused.
        Dictionary<string, ConsoleTokenEntry>.AlternateLookup<ReadOnlySpan<char>> last = default;
        var reuse = previous is Dictionary<string, ConsoleTokenEntry> table && table.TryGetAlternateLookup(out last);
        Span<char> text = stackalloc char[TokenText.Md5TokenLength];
        foreach (var vm in vms)
        {
            var ip = vm.VdrpIP?.Trim();
            if (string.IsNullOrEmpty(ip) || vm.VdrpPort is < 1 or > 65535)
            {
                withoutConsole++;
                continue;
            }

            TokenText.WriteMd5Token(ip, vm.VdrpPort, text);
            ConsoleTokenEntry? lastEntry = null;
            var token = reuse && last.TryGetValue(text, out var lastToken, out lastEntry) ? lastToken : new string(text);
            var isOn = string.Equals(vm.State, "ON", StringComparison.OrdinalIgnoreCase);
            if (tokens.TryGetValue(token, out var earlier))
            {
                reporters ??= new(StringComparer.Ordinal);
                if (!reporters.TryGetValue(token, out var list))
                {
                    // The entry still there is the first VM that reported the address: any later one is in the list.
                    reporters[token] = list = [(earlier.Vm?.Enterprise, earlier.Vm?.Id)];
                }

                list.Add((vm.Enterprise, vm.Id?.ToString(CultureInfo.InvariantCulture)));
                if (running.Contains(token) && !isOn)
                {
                    continue;
                }
            }

            if (isOn)
            {
                running.Add(token);
            }

            var entry = new ConsoleTokenEntry
            {
                Target = ConsoleTarget.Tcp(ip, vm.VdrpPort),
                Vm = new VmIdentity
                {
                    Id = vm.Id?.ToString(CultureInfo.InvariantCulture),
                    Name = vm.Name,
                    Label = vm.Label,
                    Enterprise = vm.Enterprise,
                    Hypervisor = vm.Hypervisor,
                },
                Password = vm.Password,
                Source = SourceName,
            };
            // The new entry is garbage at once when it equals the last one: a young object costs far less than an old
            // one replaced, and comparing whole entries cannot miss a field.
            tokens[token] = entry.SameContentAs(lastEntry) ? lastEntry! : entry;
        }

        var shared = reporters?.Values.Sum(list => list.Count - 1) ?? 0;
        return new AbiquoTokenSet(tokens, withoutConsole, shared, reporters is null ? [] : Contest(tokens, reporters));
    }

    /// <summary>Takes the addresses reported by more than one enterprise out of <paramref name="tokens"/>, with their VMs.</summary>
    private static List<ContestedAddress> Contest(Dictionary<string, ConsoleTokenEntry> tokens, Dictionary<string, List<(string? Enterprise, string? Id)>> reporters)
    {
        var result = new List<ContestedAddress>();
        foreach (var (token, list) in reporters)
        {
            var enterprise = list[0].Enterprise;
            if (list.Exists(vm => !string.Equals(vm.Enterprise, enterprise, StringComparison.Ordinal)))
            {
                result.Add(new ContestedAddress(tokens[token].Target.ToString(), list.ConvertAll(vm => $"{vm.Enterprise}/{vm.Id}")));
                tokens.Remove(token);
            }
        }

        return result;
    }
}
