using System.Globalization;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Builds the token set of an inventory by the rules of <see cref="AbiquoTokens"/>, from VMs added in inventory order,
/// one enterprise at a time as they are read (<see cref="AbiquoClient.ReadVirtualMachinesAsync"/>), so no caller has to
/// hold the whole inventory.
/// </summary>
/// <remarks>
/// Given the tokens of the last build, it reuses that token string and entry (with the entry's fingerprint) wherever a
/// VM's are the same. A re-sync of 1,000,000 VMs then keeps the objects of the 99 % that did not change, which the
/// collector has already promoted, instead of making 834,000 new entries that live through the sync and are promoted
/// twice before a full collection frees the old ones.
/// </remarks>
public sealed class AbiquoTokenBuilder
{
    private readonly Dictionary<string, ConsoleTokenEntry> _tokens;
    private readonly HashSet<string> _running;

    // The last build's tokens, looked up by the token's text on the stack. Any other dictionary: nothing is reused.
    private readonly Dictionary<string, ConsoleTokenEntry>.AlternateLookup<ReadOnlySpan<char>> _last;
    private readonly bool _reuse;

    // Only for addresses reported more than once: every VM that reported each, in inventory order. One pass, so a
    // contested address (7,700 of them in the 1,000,000-VM bench) no longer costs a second hashing of every VM.
    private Dictionary<string, List<(string? Enterprise, string? Id)>>? _reporters;
    private int _withoutConsole;

    /// <summary>A builder.</summary>
    /// <param name="previous">The tokens of the last build, if any.</param>
    /// <param name="capacity">VMs expected; the last build's size is taken when larger.</param>
    public AbiquoTokenBuilder(IReadOnlyDictionary<string, ConsoleTokenEntry>? previous = null, int capacity = 0)
    {
        // Sized once: growing to 1,000,000 entries would copy the large-object-heap arrays several times over.
        capacity = Math.Max(capacity, previous?.Count ?? 0);
        _tokens = new Dictionary<string, ConsoleTokenEntry>(capacity, StringComparer.Ordinal);
        _running = new HashSet<string>(capacity, StringComparer.Ordinal);
        _reuse = previous is Dictionary<string, ConsoleTokenEntry> table && table.TryGetAlternateLookup(out _last);
    }

    /// <summary>Adds the next VMs of the inventory.</summary>
    public void Add(IEnumerable<AbiquoVirtualMachine> vms)
    {
        Span<char> text = stackalloc char[TokenText.Md5TokenLength];
        foreach (var vm in vms)
        {
            var ip = vm.VdrpIP?.Trim();
            if (string.IsNullOrEmpty(ip) || vm.VdrpPort is < 1 or > 65535)
            {
                _withoutConsole++;
                continue;
            }

            TokenText.WriteMd5Token(ip, vm.VdrpPort, text);
            ConsoleTokenEntry? lastEntry = null;
            var token = _reuse && _last.TryGetValue(text, out var lastToken, out lastEntry) ? lastToken : new string(text);
            var isOn = string.Equals(vm.State, "ON", StringComparison.OrdinalIgnoreCase);
            if (_tokens.TryGetValue(token, out var earlier))
            {
                _reporters ??= new(StringComparer.Ordinal);
                if (!_reporters.TryGetValue(token, out var list))
                {
                    // The entry still there is the first VM that reported the address: any later one is in the list.
                    _reporters[token] = list = [(earlier.Vm?.Enterprise, earlier.Vm?.Id)];
                }

                list.Add((vm.Enterprise, vm.Id?.ToString(CultureInfo.InvariantCulture)));
                if (_running.Contains(token) && !isOn)
                {
                    continue;
                }
            }

            if (isOn)
            {
                _running.Add(token);
            }

            // Most VMs of a re-sync did not change: their last entry is kept as it is, and nothing is made for them.
            _tokens[token] = DescribesUnchanged(lastEntry, ip, vm) ? lastEntry! : NewEntry(ip, vm);
        }
    }

    /// <summary>The entry of a VM with a console at <paramref name="ip"/>.</summary>
    internal static ConsoleTokenEntry NewEntry(string ip, AbiquoVirtualMachine vm) => new()
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
        Source = AbiquoTokens.SourceName,
    };

    /// <summary>
    /// True when <see cref="NewEntry"/> would make an entry with the same content as <paramref name="last"/>, compared
    /// field by field without making it. Making every entry and comparing whole ones (as before) cost four objects a VM
    /// for a re-sync of 1,000,000 VMs that keeps 99 % of them. AbiquoTokensTests checks this against
    /// <see cref="ConsoleTokenEntry.SameContentAs"/> for a change in each of a VM's fields.
    /// </summary>
    internal static bool DescribesUnchanged(ConsoleTokenEntry? last, string ip, AbiquoVirtualMachine vm) =>
        last is { Target: { UnixSocket: null } target, Vm: { } identity }
        && target.Port == vm.VdrpPort
        && target.Host == ip
        && last.Password == vm.Password
        && last.Source == AbiquoTokens.SourceName
        && IdIs(identity.Id, vm.Id)
        && identity.Name == vm.Name
        && identity.Label == vm.Label
        && identity.Enterprise == vm.Enterprise
        && identity.Hypervisor == vm.Hypervisor;

    /// <summary>An id as <see cref="NewEntry"/> writes it, compared without making its text.</summary>
    private static bool IdIs(string? text, int? id)
    {
        if (id is not { } value)
        {
            return text is null;
        }

        Span<char> digits = stackalloc char[11];
        return text is not null && value.TryFormat(digits, out var length, provider: CultureInfo.InvariantCulture) && text.AsSpan().SequenceEqual(digits[..length]);
    }

    /// <summary>The token set of every VM added; the builder is done with.</summary>
    public AbiquoTokenSet Finish()
    {
        var shared = _reporters?.Values.Sum(list => list.Count - 1) ?? 0;
        return new AbiquoTokenSet(_tokens, _withoutConsole, shared, _reporters is null ? [] : Contest(_tokens, _reporters));
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
