using System.Net.WebSockets;
using System.Security.Cryptography;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Recording;

/// <summary>
/// Recording:MaxPlayers on a real node: the player over the cap is refused with 1013 and a reason that names the
/// setting, and a place freed by a player that left is given to the next one.
/// </summary>
public sealed class PlayerCapTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory("recordings-cap");
        await Task.Run(() => SyntheticRecording.WriteRedGreenBlue(Path.Combine(directory, PlaybackFixture.RedGreenBlue + ".vncrec")));
        var secretFile = Path.Combine(Repo.TempDirectory("playback-cap"), "ticket-secret");
        await File.WriteAllTextAsync(secretFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var tokens = TokenFiles.Write(Repo.TempDirectory("playback-cap"), ("cap-token", $"127.0.0.1:{Ports.Free()}"));
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = tokens,
            SiloName = "player-cap",
            Environment = { ["Recording__Directory"] = directory, ["Tickets__SecretFile"] = secretFile, ["Recording__MaxPlayers"] = "1" },
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    [Fact]
    public async Task APlayerOverTheCap_IsRefusedWith1013_AndThePlaceGoesToTheNextOnceOneLeaves()
    {
        var first = await PlayerAsync();
        Assert.Equal("RFB 003.008\n"u8.ToArray(), await first.ReadExactlyAsync(12, Timeout));

        await using (var second = await PlayerAsync())
        {
            var (status, reason) = await second.ReadUntilCloseAsync(Timeout);
            Assert.Equal((WebSocketCloseStatus)1013, status);
            Assert.Contains("Recording:MaxPlayers", reason, StringComparison.Ordinal);
        }

        await first.DisposeAsync();
        // The first player's place is freed once its handshake sees the close: the next one is greeted, not refused.
        await Eventually.HoldsAsync(async () =>
        {
            await using var next = await PlayerAsync();
            try
            {
                return (await next.ReadExactlyAsync(12, Timeout)).AsSpan().SequenceEqual("RFB 003.008\n"u8);
            }
            catch (Exception exception) when (exception is WebSocketException or EndOfStreamException or InvalidOperationException)
            {
                return false;
            }
        }, Timeout, "a player after the first left was still refused");
    }

    private async Task<ConsoleClient> PlayerAsync()
    {
        var (_, ticket) = await RecordingPlayback.IssueAsync(_node, PlaybackFixture.RedGreenBlue);
        return await ConsoleClient.ConnectAsync(new Uri($"ws://127.0.0.1:{_node.Port}/websockify/playback?ticket={Uri.EscapeDataString(ticket)}"));
    }
}
