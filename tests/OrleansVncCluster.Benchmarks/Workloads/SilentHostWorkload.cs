using System.Diagnostics;
using System.Globalization;
using System.Net;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Peers;
using OrleansVncCluster.Benchmarks.Reporting;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Testing;
using StackExchange.Redis;

namespace OrleansVncCluster.Benchmarks.Workloads;

/// <summary>
/// Issue 17's silent-host row: three nodes, each on a simulated host of its own (a network namespace on one bridge, as
/// the separate-hosts integration test builds them), on one redis-server, with a trickle of sessions to the two that stay
/// up. Host c's cable is pulled (its veth link down): it neither answers nor says goodbye. The time until the cluster's
/// membership table marks it Dead is taken, and a live node marked Dead at any point is a false death. Between cuts
/// host c is killed, plugged in again and restarted, a new generation of the same silo.
/// </summary>
internal sealed class SilentHostWorkload(BenchOptions options, string workDirectory, string logDirectory, Action<string> log)
{
    private static readonly string[] HostNames = ["a", "b", "c"];

    /// <summary>A cut whose host is not declared dead within this long is recorded as this long (and fails the target).</summary>
    private static readonly TimeSpan DeathWait = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan TrickleInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan LoadBeforeCut = TimeSpan.FromSeconds(3);

    private const string Token = "silent-banner";

    public async Task<SilentHostResult> RunAsync()
    {
        var cluster = "bench-hosts-" + Guid.NewGuid().ToString("N")[..8];
        var declared = new List<double>();
        var victim = HostNames.Length - 1;
        NetworkNamespaces? network = null;
        RedisServer? redis = null;
        TargetServer? banner = null;
        ConnectionMultiplexer? membership = null;
        SessionTrickle? trickle = null;
        var nodes = new RelayPeer?[HostNames.Length];
        var cut = false;
        string? error = null;
        string? falseDeaths = null;
        var falseDeathCount = 0;
        try
        {
            network = await NetworkNamespaces.CreateAsync(HostNames);
            var bridge = network.BridgeAddress;
            redis = await RedisServer.StartAsync(logDirectory, bridge.ToString());
            banner = new TargetServer(TargetKind.Banner, address: bridge);
            var tokenFile = Path.Combine(workDirectory, "tokens-hosts.cfg");
            await File.WriteAllTextAsync(tokenFile, Invariant($"{Token}: {bridge}:{banner.Port}\n"));
            var ports = HostNames.Select(_ => RelayPorts.Free()).ToArray();
            var hosts = network.Hosts;
            var started = Enumerable.Range(0, hosts.Count).Select(i => StartNodeAsync(hosts[i], ports[i], tokenFile, redis, cluster)).ToList();
            try
            {
                await Task.WhenAll(started);
            }
            finally
            {
                for (var i = 0; i < started.Count; i++)
                {
                    nodes[i] = started[i].IsCompletedSuccessfully ? started[i].Result : null;
                }
            }

            membership = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
            var table = membership.GetDatabase();
            var silos = nodes.Select(n => $"{n!.Address}:{n.Ports.Silo}").ToArray();
            var live = await AllActiveAsync(table, cluster, silos);
            log($"silent-host: nodes on hosts {string.Join(", ", hosts.Select((h, i) => $"{h.Name} {h.Address} (pid {nodes[i]!.Pid})"))}, redis-server {redis.ConnectionString}; " +
                $"a session every {TrickleInterval.TotalMilliseconds:F0} ms to hosts {string.Join(", ", HostNames.Take(victim))}");
            IBenchEndpoint[] survivors = [.. nodes.Take(victim).Select(n => n!.Endpoint)];
            trickle = new SessionTrickle(survivors, Token, TrickleInterval, maxInFlight: 50);
            // The survivors' generations as first seen: any of them turning Dead later is a false death.
            var survivorGenerations = silos.Take(victim).ToDictionary(silo => silo, silo => live[silo]);
            for (var round = 1; round <= options.SilentHostCuts; round++)
            {
                // The cut falls on a cluster already under the trickle, as it would on a host in use.
                await Task.Delay(LoadBeforeCut);
                var generation = live[silos[victim]];
                await NetworkNamespaces.CutAsync(hosts[victim]);
                cut = true;
                var dead = await DeclaredDeadAsync(table, cluster, silos[victim], generation);
                declared.Add((dead ?? DeathWait).TotalSeconds);
                log(Invariant($"silent-host: cut {round}/{options.SilentHostCuts} of host {hosts[victim].Name}: ") +
                    (dead is { } d ? Invariant($"declared dead after {d.TotalSeconds:F1} s") : Invariant($"not declared dead within {DeathWait.TotalSeconds:F0} s")));

                // A host without network cannot leave the cluster gracefully: it would only wait out its shutdown.
                await nodes[victim]!.Process.KillAsync();
                await nodes[victim]!.DisposeAsync();
                await NetworkNamespaces.RestoreAsync(hosts[victim]);
                cut = false;
                if (round < options.SilentHostCuts)
                {
                    nodes[victim] = await StartNodeAsync(hosts[victim], ports[victim], tokenFile, redis, cluster);
                    live = await AllActiveAsync(table, cluster, silos);
                }
            }

            var rows = MembershipTable.Parse(await ReadAsync(table, cluster));
            var lost = rows.Where(row => survivorGenerations.TryGetValue(row.Address, out var generation) && row.Generation == generation && row.Status != SiloRow.Active).ToList();
            falseDeathCount = lost.Count;
            falseDeaths = lost.Count == 0 ? null : string.Join("; ", lost.Select(row => Invariant($"{row.Address} status {row.Status}")));
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or IOException or RedisException or HttpRequestException or TaskCanceledException)
        {
            // The report's table takes the first line; the log keeps the whole message (a peer's log tail).
            error = exception.Message.Split('\n')[0];
            log($"silent-host: stopped: {exception.Message}");
        }
        finally
        {
            if (trickle is not null)
            {
                await trickle.DisposeAsync();
            }

            if (cut && nodes[victim] is { } silent)
            {
                await silent.Process.KillAsync();
            }

            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }

            membership?.Dispose();
            if (banner is not null)
            {
                await banner.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }

            // Last: a namespace only goes away once no process runs in it any more.
            if (network is not null)
            {
                await network.DisposeAsync();
            }
        }

        var sessions = trickle?.Sessions ?? [];
        return new SilentHostResult(HostNames.Length, declared.Count, [.. declared], Percentile.Of(declared, 0.5), declared.Count == 0 ? 0 : declared.Max(),
            falseDeathCount, falseDeaths, sessions.Count(s => s.Opened), sessions.Count(s => !s.Opened), sessions.FirstOrDefault(s => !s.Opened).Error, error);
    }

    private Task<RelayPeer> StartNodeAsync(NetworkHost host, RelayPorts ports, string tokenFile, RedisServer redis, string cluster)
    {
        var environment = new Dictionary<string, string>(options.RelayEnvironment)
        {
            ["Redis__ConnectionString"] = redis.ConnectionString,
            ["Orleans__ClusterId"] = cluster,
            ["Orleans__ServiceId"] = cluster,
            ["Orleans__SiloName"] = "host-" + host.Name,
            ["Relay__DrainBudget"] = "00:00:01",
        };
        return RelayPeer.StartAsync(options.RelayPath, tokenFile, logDirectory, "silent-host-" + host.Name, environment, name: "host " + host.Name,
            ports: ports, address: host.Address.ToString(), networkNamespace: host.Namespace);
    }

    /// <summary>Waits until every one of <paramref name="silos"/> has an Active row; returns each one's Active generation.</summary>
    private static async Task<Dictionary<string, string>> AllActiveAsync(IDatabase table, string cluster, string[] silos)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            var active = MembershipTable.Parse(await ReadAsync(table, cluster)).Where(row => row.Status == SiloRow.Active)
                .GroupBy(row => row.Address).ToDictionary(g => g.Key, g => g.Max(row => row.Generation)!, StringComparer.Ordinal);
            if (silos.All(active.ContainsKey))
            {
                return active;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the membership table did not list {string.Join(", ", silos)} as Active within 60 s");
    }

    /// <summary>How long until <paramref name="silo"/>'s row of <paramref name="generation"/> turns Dead; null if not within <see cref="DeathWait"/>.</summary>
    private static async Task<TimeSpan?> DeclaredDeadAsync(IDatabase table, string cluster, string silo, string generation)
    {
        var cut = Stopwatch.StartNew();
        while (cut.Elapsed < DeathWait)
        {
            if (MembershipTable.Parse(await ReadAsync(table, cluster)).Any(row => row.Address == silo && row.Generation == generation && row.Status == SiloRow.Dead))
            {
                return cut.Elapsed;
            }

            await Task.Delay(100);
        }

        return null;
    }

    private static async Task<IEnumerable<KeyValuePair<string, string>>> ReadAsync(IDatabase table, string cluster) =>
        (await table.HashGetAllAsync(MembershipTable.Key(cluster))).Select(entry => new KeyValuePair<string, string>(entry.Name.ToString(), entry.Value.ToString()));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
