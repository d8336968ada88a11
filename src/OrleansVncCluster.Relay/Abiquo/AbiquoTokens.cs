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
    public static AbiquoTokenSet Build(IEnumerable<AbiquoVirtualMachine> vms)
    {
        // Sized once: growing to 100,000 entries would copy the large-object-heap arrays several times over.
        var capacity = vms.TryGetNonEnumeratedCount(out var count) ? count : 0;
        var tokens = new Dictionary<string, ConsoleTokenEntry>(capacity, StringComparer.Ordinal);
        var running = new HashSet<string>(capacity, StringComparer.Ordinal);
        HashSet<string>? contested = null;
        var withoutConsole = 0;
        var shared = 0;
        foreach (var vm in vms)
        {
            var ip = vm.VdrpIP?.Trim();
            if (string.IsNullOrEmpty(ip) || vm.VdrpPort is < 1 or > 65535)
            {
                withoutConsole++;
                continue;
            }

            var token = TokenText.Md5Token(ip, vm.VdrpPort);
            var isOn = string.Equals(vm.State, "ON", StringComparison.OrdinalIgnoreCase);
            if (tokens.TryGetValue(token, out var earlier))
            {
                if (!string.Equals(earlier.Vm?.Enterprise, vm.Enterprise, StringComparison.Ordinal))
                {
                    (contested ??= new(StringComparer.Ordinal)).Add(token);
                }

                shared++;
                if (running.Contains(token) && !isOn)
                {
                    continue;
                }
            }

            if (isOn)
            {
                running.Add(token);
            }

            tokens[token] = new ConsoleTokenEntry
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
        }

        if (contested is null)
        {
            return new AbiquoTokenSet(tokens, withoutConsole, shared, []);
        }

        return new AbiquoTokenSet(tokens, withoutConsole, shared, Contest(vms, tokens, contested));
    }

    /// <summary>Takes the contested tokens out of <paramref name="tokens"/> and says which VMs reported each address.</summary>
    private static List<ContestedAddress> Contest(IEnumerable<AbiquoVirtualMachine> vms, Dictionary<string, ConsoleTokenEntry> tokens, HashSet<string> contested)
    {
        // A second pass over the VMs only when there is a conflict, so the common case keeps no per-VM bookkeeping.
        var byToken = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var vm in vms)
        {
            var ip = vm.VdrpIP?.Trim();
            if (string.IsNullOrEmpty(ip) || vm.VdrpPort is < 1 or > 65535)
            {
                continue;
            }

            var token = TokenText.Md5Token(ip, vm.VdrpPort);
            if (contested.Contains(token))
            {
                if (!byToken.TryGetValue(token, out var list))
                {
                    byToken[token] = list = [];
                }

                list.Add($"{vm.Enterprise}/{vm.Id?.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        var result = new List<ContestedAddress>(contested.Count);
        foreach (var token in contested)
        {
            var target = tokens[token].Target;
            tokens.Remove(token);
            result.Add(new ContestedAddress(target.ToString(), byToken[token]));
        }

        return result;
    }
}
