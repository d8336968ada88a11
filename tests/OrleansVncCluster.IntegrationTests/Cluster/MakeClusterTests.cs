using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using OrleansVncCluster.IntegrationTests.Deploy;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Cluster;

/// <summary>
/// `make cluster` / `make cluster-stop` (scripts/cluster.sh) as an operator runs them, in a scratch CLUSTER_DIR so a
/// developer's own .cluster/ is never touched.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(MachineWide.Name)]
public sealed class MakeClusterTests
{
    private static readonly string Script = Path.Combine(Repo.Root, "scripts", "cluster.sh");

    [Fact]
    public async Task MakeCluster_ServesEachDesktopThroughHaproxy_GuardsTheStatsPage_AndStopStopsExactlyWhatItStarted()
    {
        var directory = Repo.TempDirectory("cluster");
        var environment = new Dictionary<string, string?>
        {
            ["CLUSTER_DIR"] = directory,
            ["CLUSTER_NODES"] = "2",
            ["CLUSTER_DESKTOPS"] = "1",
        };
        int[] pids = [];
        try
        {
            var start = await ClusterAsync("start", environment);
            Assert.True(start.ExitCode == 0, $"cluster.sh start failed:\n{start.Output}");
            using var state = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "cluster.json")));
            var root = state.RootElement;
            pids = [.. root.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("pid").GetInt32())];
            var desktop = root.GetProperty("desktops")[0];
            Assert.Contains(desktop.GetProperty("consoleUrl").GetString()!, start.Output, StringComparison.Ordinal);
            Assert.Equal(2, root.GetProperty("nodes").GetArrayLength());
            Assert.Equal(1 + 2 + 1 + 1 + 1, pids.Length);

            var statsPasswordFile = root.GetProperty("statsPasswordFile").GetString()!;
            var adminTokenFile = root.GetProperty("adminTokenFile").GetString()!;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(statsPasswordFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(adminTokenFile));
            var statsPassword = (await File.ReadAllTextAsync(statsPasswordFile)).Trim();
            Assert.DoesNotContain(statsPassword, start.Output, StringComparison.Ordinal);
            Assert.All(pids, pid => Assert.DoesNotContain(statsPassword, CommandLineOf(pid), StringComparison.Ordinal));

            // A console session through HAProxy reaches the demo desktop: RFB banner, VNC authentication, ServerInit.
            var webSocket = new Uri(desktop.GetProperty("webSocketUrl").GetString()!);
            await using (var console = await ConsoleClient.ConnectAsync(webSocket))
            {
                var rfb = new RfbClient(console);
                await rfb.HandshakeAsync((await File.ReadAllTextAsync(root.GetProperty("vncPasswordFile").GetString()!)).Trim());
                Assert.Equal(1024, rfb.Width);
            }

            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
            var stats = new Uri(root.GetProperty("statsUrl").GetString()!);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(stats)).StatusCode);
            using (var request = new HttpRequestMessage(HttpMethod.Get, stats))
            {
                request.Headers.Authorization = HaproxyFront.Basic("admin", statsPassword);
                using var response = await http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("be_relay", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var again = await ClusterAsync("start", environment);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("already running", again.Output, StringComparison.Ordinal);
            Assert.All(pids, pid => Assert.True(Directory.Exists($"/proc/{pid}"), $"PID {pid} still runs after the second start"));
        }
        finally
        {
            var stop = await ClusterAsync("stop", environment);
            Assert.True(stop.ExitCode == 0, $"cluster.sh stop failed:\n{stop.Output}");
        }

        await Eventually.HoldsAsync(() => pids.All(pid => !Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(10),
            $"every PID cluster.json recorded ({string.Join(", ", pids)}) is gone after cluster-stop");
        Assert.False(File.Exists(Path.Combine(directory, "cluster.json")), "cluster-stop removes cluster.json");
        Directory.Delete(directory, recursive: true);
    }

    private static Task<CommandResult> ClusterAsync(string command, Dictionary<string, string?> environment) =>
        DeployCommands.RunAsync($"cluster-{command}", Script, [command], environment, TimeSpan.FromMinutes(4));

    private static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }
}
