using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;
using OrleansVncCluster.IntegrationTests.Sync;
using StackExchange.Redis;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// A closed cluster (issue 12, item 12): three nodes on Redis clustering whose silos talk mutual TLS under a private CA
/// (Cluster:Tls:*). Sessions open on every node whatever silo holds the token's grain, and a removal ends live sessions
/// on the other nodes, and the Abiquo sync (one grain, on one silo) writes tokens every node opens; a process without a certificate, and one with a certificate from another CA, never become
/// Active members, so they can call no grain, and the members refuse the foreign certificate in their logs.
/// </summary>
public sealed class SiloTlsTests : IAsyncLifetime
{
    private const string Kept = "silo-tls-kept-token";
    private const string Revoked = "silo-tls-revoked-token";
    private readonly TcpTarget _echo = TcpTarget.Echo();
    private readonly string _cluster = "tls-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _directory = Repo.TempDirectory("silo-tls");
    private readonly List<RelayNodeProcess> _nodes = [];
    private X509Certificate2 _ca = null!;
    private RedisServer _redis = null!;
    private SimulatorProcess _simulator = null!;
    private string _tokens = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _simulator = await SimulatorProcess.StartAsync(_echo.Port);
        _ca = TestCertificates.CreateCa("vnc-relay cluster CA");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
        _tokens = TokenFiles.Write(_directory, (Kept, $"127.0.0.1:{_echo.Port}"), (Revoked, $"127.0.0.1:{_echo.Port}"));

        // The first node founds the cluster and loads the tokens; the others join it together.
        _nodes.Add(await RelayNodeProcess.StartAsync(Settings("tls-node1", _ca, _tokens)));
        _nodes.AddRange(await Task.WhenAll(new[] { "tls-node2", "tls-node3" }.Select(name => RelayNodeProcess.StartAsync(Settings(name, _ca)))));
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(node => node.DisposeAsync().AsTask()));
        await _redis.DisposeAsync();
        await _simulator.DisposeAsync();
        await _echo.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string CaFile => Path.Combine(_directory, "cluster-ca.crt");

    [Fact]
    public async Task NodesOnTls_RelayAndRevokeAcrossTheCluster_WhileProcessesWithoutTheCaCertificateStayOut()
    {
        await Task.WhenAll(_nodes.Select(node => node.Process.WaitForOutputAsync("Silo TLS: presenting CN=", TimeSpan.FromSeconds(10))));
        Assert.Equal(["tls-node1", "tls-node2", "tls-node3"], await ActiveSilosAsync());

        // Sessions on every node: the token grains live on one silo each, so at least two of these reach them over TLS.
        var kept = await Task.WhenAll(_nodes.Select(node => ConsoleClient.OpenEchoingAsync(node, Kept)));
        var revoked = await Task.WhenAll(_nodes.Skip(1).Select(node => ConsoleClient.OpenEchoingAsync(node, Revoked)));

        // The sync grain runs on one silo and writes the VM's token grain wherever it lives; every node opens it, and any
        // node reads the sync's status from the grain.
        foreach (var node in _nodes)
        {
            await using var synced = await ConsoleClient.OpenEchoingAsync(node, SimulatorProcess.TokenOf(_echo.Port));
        }

        using (var admin = _nodes[2].AdminClient())
        {
            var status = await admin.GetFromJsonAsync<JsonElement>("/api/sync", TestContext.Current.CancellationToken);
            Assert.Equal(JsonValueKind.String, status.GetProperty("lastSuccessAt").ValueKind);
            Assert.Equal(0, status.GetProperty("consecutiveFailures").GetInt32());
        }

        try
        {
            // The intruders try to join while the members work: one with no TLS at all, one with a certificate from
            // another CA (which itself trusts the cluster CA, so only the members' check can keep it out).
            using var foreignCa = TestCertificates.CreateCa("some other CA");
            var plain = await RelayNodeProcess.StartAsync(Intruder("intruder-plain", null), waitReady: false);
            var foreign = await RelayNodeProcess.StartAsync(Intruder("intruder-foreign", foreignCa), waitReady: false);
            await using (plain)
            await using (foreign)
            {
                // A removal on node 1 ends the sessions on nodes 2 and 3: the revocation broadcast crossed TLS.
                TokenFiles.Rewrite(_tokens, (Kept, $"127.0.0.1:{_echo.Port}"));
                foreach (var session in revoked)
                {
                    var (status, reason) = await session.ReadUntilCloseAsync(TimeSpan.FromSeconds(20));
                    Assert.Equal((WebSocketCloseStatus)4410, status);
                    Assert.Contains("revoked", reason, StringComparison.Ordinal);
                }

                // The members refuse the foreign certificate by name, and neither intruder ever becomes Active: each gives
                // up joining (Orleans checks it can reach every member first) and exits.
                await Eventually.HoldsAsync(() => Task.FromResult(_nodes.Any(node =>
                        node.Process.Output.Contains("Refused a silo connection presenting CN=intruder-foreign", StringComparison.Ordinal))),
                    TimeSpan.FromSeconds(30), "a member logs that it refused the foreign certificate");
                // Sampled until both are gone: at no moment is either an Active row of the membership table.
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
                while (!(plain.Process.HasExited && foreign.Process.HasExited) && DateTime.UtcNow < deadline)
                {
                    Assert.Equal(["tls-node1", "tls-node2", "tls-node3"], await ActiveSilosAsync());
                    await Task.Delay(TimeSpan.FromMilliseconds(500));
                }

                foreach (var intruder in new[] { plain, foreign })
                {
                    Assert.True(intruder.Process.HasExited, $"{intruder.Settings.SiloName} should give up joining; it still runs:\n{intruder.Process.Tail()}");
                    Assert.NotEqual(0, intruder.Process.ExitCode);

                    // Its own account: it reached no member (the TLS handshakes failed), so it stayed Joining.
                    Assert.Contains("Failed to get ping responses from 3 of 3 active silos", intruder.Process.Output, StringComparison.Ordinal);
                }

                Assert.Equal(["tls-node1", "tls-node2", "tls-node3"], await ActiveSilosAsync());
            }

            Assert.All(await Task.WhenAll(kept.Select(session => session.EchoesAsync())), Assert.True);
            Assert.All(_nodes, node => Assert.False(node.Process.HasExited));
        }
        finally
        {
            await Task.WhenAll(kept.Concat(revoked).Select(session => session.DisposeAsync().AsTask()));
        }
    }

    private RelayNodeSettings Settings(string name, X509Certificate2 issuer, string? tokens = null, string? caFile = null)
    {
        using var certificate = TestCertificates.CreateLeaf(name, issuer, serverAndClient: true);
        var (certificateFile, keyFile) = TestCertificates.WritePem(certificate, _directory, name);
        return new RelayNodeSettings
        {
            TokenFile = tokens,
            RedisConnectionString = _redis.ConnectionString,
            SiloName = name,
            Environment = new(_simulator.NodeEnvironment())
            {
                ["Orleans__ClusterId"] = _cluster,
                ["Orleans__ServiceId"] = _cluster,
                ["Cluster__Tls__CertificateFile"] = certificateFile,
                ["Cluster__Tls__KeyFile"] = keyFile,
                ["Cluster__Tls__CaFile"] = caFile ?? CaFile,
            },
        };
    }

    /// <summary>A node of the same cluster id on the same Redis: in clear without a CA, or with a certificate of that CA.</summary>
    private RelayNodeSettings Intruder(string name, X509Certificate2? issuer)
    {
        if (issuer is not null)
        {
            // It trusts the cluster CA (its certificate is no secret) besides its own, so it dials the members and
            // shows them its certificate: only the members' check stands between it and the cluster.
            var trusted = Path.Combine(_directory, name + "-ca.crt");
            File.WriteAllText(trusted, issuer.ExportCertificatePem() + "\n" + _ca.ExportCertificatePem());
            return Settings(name, issuer, caFile: trusted);
        }

        return new RelayNodeSettings
        {
            RedisConnectionString = _redis.ConnectionString,
            SiloName = name,
            Environment = { ["Orleans__ClusterId"] = _cluster, ["Orleans__ServiceId"] = _cluster },
        };
    }

    /// <summary>The SiloName of every Active row (Status 3) of the cluster's Redis membership table, sorted.</summary>
    private async Task<List<string>> ActiveSilosAsync()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
        var rows = await redis.GetDatabase().HashGetAllAsync($"{_cluster}/members/{_cluster}");
        return [.. rows
            .Where(row => row.Name != "Version")
            .Select(row => JsonDocument.Parse(row.Value.ToString()).RootElement)
            .Where(entry => entry.GetProperty("Status").GetInt32() == 3)
            .Select(entry => entry.GetProperty("SiloName").GetString()!)
            .Order(StringComparer.Ordinal)];
    }
}
