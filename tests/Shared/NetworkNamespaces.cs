using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace OrleansVncCluster.Testing;

/// <summary>One simulated host: a network namespace whose eth0 has one address on the shared bridge.</summary>
public sealed record NetworkHost(string Name, string Namespace, string Link, IPAddress Address)
{
    /// <summary>
    /// The command line that runs <paramref name="file"/> on this host. `ip netns exec` enters the namespace and then
    /// execs the program in place, so the PID the test gets back is the program's own and stopping it stops exactly it.
    /// </summary>
    public (string File, List<string> Args) Command(string file, IEnumerable<string> args) =>
        (NetworkNamespaces.Ip, ["netns", "exec", Namespace, file, .. args]);

    /// <summary>The namespace a process runs in, as `ip netns identify` names it ("" for the root namespace).</summary>
    public static async Task<string> NamespaceOfAsync(int pid) =>
        (await NetworkNamespaces.IpAsync("netns", "identify", pid.ToString(CultureInfo.InvariantCulture))).Trim();
}

/// <summary>
/// Simulated hosts on one machine: a Linux bridge in the root namespace holding the .1 address of a private /24 that
/// nothing on the machine uses, and one network namespace per host, joined to the bridge by a veth pair. Programs in
/// the root namespace (Redis, HAProxy, the test itself) reach every host through the bridge address and vice versa.
/// Disposing deletes exactly the namespaces and links this instance created; stop the processes running in them first,
/// or a namespace outlives its name.
/// </summary>
public sealed class NetworkNamespaces : IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];

    private NetworkNamespaces(string runId) => RunId = runId;

    /// <summary>iproute2's ip (/usr/sbin may be missing from a non-root PATH).</summary>
    public static string Ip => File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : "ip";

    /// <summary>Short, unique per run: part of every name created, so concurrent runs never touch each other's.</summary>
    public string RunId { get; }

    /// <summary>The bridge's name in the root namespace.</summary>
    public string Bridge => $"ovc{RunId}br";

    /// <summary>The private /24 of this run.</summary>
    public IPNetwork Subnet { get; private set; }

    /// <summary>The root namespace's address on the bridge: where services of the root namespace are reachable from the hosts.</summary>
    public IPAddress BridgeAddress => Address(1);

    /// <summary>The hosts, in the order their names were given.</summary>
    public IReadOnlyList<NetworkHost> Hosts { get; private set; } = [];

    /// <summary>Creates the bridge and one namespace per name; fails with what is missing when this user may not.</summary>
    public static async Task<NetworkNamespaces> CreateAsync(params string[] hostNames)
    {
        var network = new NetworkNamespaces(Guid.NewGuid().ToString("N")[..6]);
        try
        {
            await network.BuildAsync(hostNames);
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }

        return network;
    }

    /// <summary>Takes a host off the network as a pulled cable would: its end of the bridge goes down.</summary>
    public static Task CutAsync(NetworkHost host) => IpAsync("link", "set", host.Link, "down");

    /// <summary>Plugs a cut host back in (<see cref="CutAsync"/> undone).</summary>
    public static Task RestoreAsync(NetworkHost host) => IpAsync("link", "set", host.Link, "up");

    /// <summary>Deletes exactly what this instance created, namespaces first (their veth ends, and so the pairs, go with them).</summary>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<string>();
        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            var (exitCode, output) = await RunAsync(["netns", "delete", name]);
            if (exitCode != 0)
            {
                failures.Add($"namespace {name}: {output.Trim()}");
            }
        }

        foreach (var link in Enumerable.Reverse(_links))
        {
            if ((await RunAsync(["link", "show", link])).ExitCode != 0)
            {
                continue;
            }

            // The kernel tears a deleted namespace down in the background, taking the veth pair with it: a link still
            // shown a moment ago may be gone by the delete, which is the outcome wanted, not a failure.
            var (exitCode, output) = await RunAsync(["link", "delete", link]);
            if (exitCode != 0 && !output.Contains("Cannot find device", StringComparison.Ordinal))
            {
                failures.Add($"link {link}: {output.Trim()}");
            }
        }

        _namespaces.Clear();
        _links.Clear();
        if (failures.Count > 0)
        {
            throw new InvalidOperationException("Could not remove what the test created; remove it by hand: " + string.Join("; ", failures));
        }
    }

    /// <summary>Runs ip with the arguments and returns its output; throws with the command and output when it fails.</summary>
    internal static async Task<string> IpAsync(params string[] args)
    {
        var (exitCode, output) = await RunAsync(args);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"`ip {string.Join(' ', args)}` failed with {exitCode}: {output.Trim()}");
        }

        return output;
    }

    private IPAddress Address(int host)
    {
        var bytes = Subnet.BaseAddress.GetAddressBytes();
        bytes[3] = (byte)host;
        return new IPAddress(bytes);
    }

    private async Task BuildAsync(string[] hostNames)
    {
        // The first namespace doubles as the privilege check: it is the first thing that needs CAP_NET_ADMIN and
        // CAP_SYS_ADMIN (ip mounts the namespace under /run/netns), and its error is the clearest.
        var first = $"ovc-{RunId}-{hostNames[0]}";
        var (exitCode, output) = await RunAsync(["netns", "add", first]);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"`ip netns add {first}` failed ({output.Trim()}): the separate-hosts tests build hosts from Linux network namespaces "
                + "and need root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; run the integration tests as root or in a privileged container.");
        }

        _namespaces.Add(first);
        Subnet = await FreeSubnetAsync();

        await IpAsync("link", "add", Bridge, "type", "bridge");
        _links.Add(Bridge);
        await IpAsync("address", "add", $"{BridgeAddress}/24", "dev", Bridge);
        await IpAsync("link", "set", Bridge, "up");

        var hosts = new List<NetworkHost>();
        for (var i = 0; i < hostNames.Length; i++)
        {
            var name = $"ovc-{RunId}-{hostNames[i]}";
            if (i > 0)
            {
                await IpAsync("netns", "add", name);
                _namespaces.Add(name);
            }

            var link = $"ovc{RunId}h{i}";
            var peer = $"ovc{RunId}p{i}";
            await IpAsync("link", "add", link, "type", "veth", "peer", "name", peer);
            _links.Add(link);
            await IpAsync("link", "set", peer, "netns", name);
            await IpAsync("link", "set", link, "master", Bridge);
            await IpAsync("link", "set", link, "up");

            var host = new NetworkHost(hostNames[i], name, link, Address(10 + i));
            await IpAsync("-n", name, "link", "set", peer, "name", "eth0");
            await IpAsync("-n", name, "address", "add", $"{host.Address}/24", "dev", "eth0");
            await IpAsync("-n", name, "link", "set", "eth0", "up");
            await IpAsync("-n", name, "link", "set", "lo", "up");
            hosts.Add(host);
        }

        Hosts = hosts;
    }

    /// <summary>
    /// A random 10.x.y.0/24 that overlaps no address or route of the root namespace (other runs' bridges included),
    /// so the test can never shadow a real network of the machine.
    /// </summary>
    private static async Task<IPNetwork> FreeSubnetAsync()
    {
        var inUse = new List<IPNetwork>();
        var listing = await IpAsync("-4", "-o", "address", "show") + "\n" + await IpAsync("-4", "route", "show", "table", "all");
        foreach (var word in listing.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (IPNetwork.TryParse(word, out var network) && network.PrefixLength > 0)
            {
                inUse.Add(network);
            }
            else if (IPAddress.TryParse(word, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                inUse.Add(new IPNetwork(address, 32));
            }
        }

        for (var attempt = 0; attempt < 100; attempt++)
        {
            var candidate = new IPNetwork(new IPAddress([10, (byte)Random.Shared.Next(64, 255), (byte)Random.Shared.Next(0, 256), 0]), 24);
            if (!inUse.Any(used => used.Contains(candidate.BaseAddress) || candidate.Contains(used.BaseAddress)))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free 10.x.y.0/24 found for the simulated hosts: the machine's routes cover them all");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Ip) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Ip}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
