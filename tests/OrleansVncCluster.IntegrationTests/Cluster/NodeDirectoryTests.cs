using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// A node is ready (/readyz) only once the cluster's node directory lists it: the cluster-wide session list, closing a
/// session and revocations reach a node through the directory, so a node that served before it was listed left its
/// sessions out of <c>GET /api/sessions</c> on every other node (Node/DirectoryRegistration.cs).
/// </summary>
public sealed class NodeDirectoryTests
{
    [Fact]
    public async Task ANodeThatJoins_IsListedByTheOtherNode_AsSoonAsItSaysReady()
    {
        await using var redis = await RedisServer.StartAsync();
        var cluster = "directory-" + Guid.NewGuid().ToString("N")[..8];
        RelayNodeSettings Settings(string name) => new()
        {
            RedisConnectionString = redis.ConnectionString,
            SiloName = name,
            Environment = new() { ["Orleans__ClusterId"] = cluster, ["Orleans__ServiceId"] = cluster },
        };

        await using var first = await RelayNodeProcess.StartAsync(Settings("directory-a"));
        // Returns as soon as the joining node's /readyz answers 200.
        await using var joining = await RelayNodeProcess.StartAsync(Settings("directory-b"));

        // Once, at once: no retry, since "ready" is what promises the listing.
        using var admin = first.AdminClient();
        var sessions = await admin.GetStringAsync(new Uri("/api/sessions", UriKind.Relative));

        Assert.Contains("\"nodes\":[\"directory-a\",\"directory-b\"]", sessions, StringComparison.Ordinal);
        Assert.Contains("is listed in the node directory", first.Process.Output + joining.Process.Output, StringComparison.Ordinal);
    }
}
