using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using OrleansVncCluster.IntegrationTests.Infrastructure;
using OrleansVncCluster.IntegrationTests.Security;

namespace OrleansVncCluster.IntegrationTests.Limits;

/// <summary>
/// Caps that hold (issue 12, item 10): a node started under <c>ulimit -n 1024</c> derives Relay:MaxSessions and
/// Kestrel's caps so that plain + 2 x upgraded connections stay under the limit less the reserve. A surge of sessions
/// and of plain connections beyond the caps is refused (4429, or Kestrel closing the surplus) while the admitted
/// sessions relay on, the node never runs out of descriptors, and it serves again once the surge ends.
/// </summary>
public sealed class OpenFileCapTests
{
    private const int OpenFiles = 1024;
    private const string Token = "open-file-cap-token-01";

    [Fact]
    public async Task SurgeBeyondTheDerivedCaps_IsRefused_WhileTheNodeKeepsServingWithinItsDescriptors()
    {
        await using var echo = TcpTarget.Echo();
        await using var node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(Repo.TempDirectory("open-files"), (Token, $"127.0.0.1:{echo.Port}")),
            SiloName = "open-files",
            OpenFileLimit = OpenFiles,
            Environment =
            {
                // Only the node's own cap may refuse here: the per-client, per-token and handshake-rate limits are off.
                ["Limits__MaxSessionsPerClient"] = "0",
                ["Limits__MaxSessionsPerToken"] = "0",
                ["Limits__HandshakesPerSecond"] = "0",
            },
        });

        // 1024 - 512 reserved = 512: 64 plain, 224 upgraded, 210 sessions (Tests/Transport checks the arithmetic).
        Assert.Equal("ready maxconn:210", await node.AskAgentAsync());
        await node.Process.WaitForOutputAsync("Relay:MaxSessions is not set: 210", TimeSpan.FromSeconds(10));
        const int cap = 210;

        var sessions = new List<ConsoleClient>();
        try
        {
            foreach (var batch in Enumerable.Range(0, cap).Chunk(30))
            {
                sessions.AddRange(await Task.WhenAll(batch.Select(_ => ConsoleClient.OpenEchoingAsync(node, Token))));
            }

            // The surge: sessions beyond the cap get 4429 (or 503 at Kestrel's upgrade cap), never a dead node.
            var refusals = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SurplusSessionAsync(node)));
            Assert.All(refusals, refusal => Assert.True(refusal is "4429" or "503", $"a session beyond the cap got '{refusal}'"));
            Assert.Contains("4429", refusals);

            // And plain connections beyond Kestrel's cap (64): held open without a request, as a slow flood would.
            var plain = new List<TcpClient>();
            try
            {
                for (var i = 0; i < 150; i++)
                {
                    var tcp = new TcpClient();
                    await tcp.ConnectAsync("127.0.0.1", node.Port);
                    plain.Add(tcp);
                }

                var descriptors = Directory.GetFiles($"/proc/{node.Process.Pid}/fd").Length;
                Assert.True(descriptors < OpenFiles, $"the node holds {descriptors} descriptors of its {OpenFiles}");
                var live = await Task.WhenAll(sessions.Take(20).Select(session => session.EchoesAsync()));
                Assert.All(live, Assert.True);
            }
            finally
            {
                plain.ForEach(tcp => tcp.Dispose());
            }

            // Served again: health answers, and a session closing frees a slot for a new one.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.HoldsAsync(async () => (await http.GetAsync(node.HttpUri("/healthz"))).IsSuccessStatusCode,
                TimeSpan.FromSeconds(15), "the node answers /healthz after the surge");
            await sessions[0].DisposeAsync();
            sessions.RemoveAt(0);
            sessions.Add(await ConsoleClient.OpenEchoingAsync(node, Token));

            Assert.DoesNotContain("Too many open files", node.Process.Output, StringComparison.Ordinal);
            Assert.False(node.Process.HasExited);
        }
        finally
        {
            await Task.WhenAll(sessions.Select(session => session.DisposeAsync().AsTask()));
        }
    }

    /// <summary>One session attempt beyond the cap: its close code, or the HTTP status of a refused upgrade.</summary>
    private static async Task<string> SurplusSessionAsync(RelayNodeProcess node)
    {
        await using var socket = await RawWebSocket.OpenAsync(node.Port, $"/websockify?token={Token}", TimeSpan.FromSeconds(10));
        if (!socket.StatusLine.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            return socket.StatusLine.Length > 12 ? socket.StatusLine[9..12] : $"no answer '{socket.StatusLine}'";
        }

        var frame = await socket.ReadUntilCloseAsync(TimeSpan.FromSeconds(10));
        return frame?.CloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "closed without a close frame";
    }
}
