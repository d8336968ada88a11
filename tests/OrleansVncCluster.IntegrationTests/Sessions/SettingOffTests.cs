using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>
/// A node with <c>Relay:InPlaceFrames=false</c> relays through the WebSocket's own send path exactly as the default one
/// relays through in-place frames (every other test here runs the default).
/// </summary>
public sealed class InPlaceFramesOffTests() : SettingOffTests("Relay__InPlaceFrames", "frames-off");

/// <summary>
/// A node with <c>Relay:UpgradeHandoff=false</c> relays with each session inside its request exactly as the default one
/// relays handed-off sessions.
/// </summary>
public sealed class UpgradeHandoffOffTests() : SettingOffTests("Relay__UpgradeHandoff", "handoff-off");

/// <summary>
/// A node with <c>Relay:SocketAffinity=false</c> relays with each socket where the runtime deals it exactly as the
/// default one relays with a session's two sockets on one thread (<see cref="SocketAffinityTests"/>).
/// </summary>
public sealed class SocketAffinityOffTests() : SettingOffTests("Relay__SocketAffinity", "affinity-off");

/// <summary>A node with one of the session path's settings off: a 4 MB echo byte-exact, and a target's close after its
/// bytes.</summary>
public abstract class SettingOffTests(string setting, string name) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _echoToken = $"{name}-echo-token";
    private readonly string _closingToken = $"{name}-close-token";

    private readonly TcpTarget _echo = TcpTarget.Echo();
    private readonly TcpTarget _closing = TcpTarget.SendAndClose("RFB 003.008\n"u8.ToArray());
    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory(name);
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (_echoToken, $"127.0.0.1:{_echo.Port}"), (_closingToken, $"127.0.0.1:{_closing.Port}")),
            SiloName = name,
            Environment = { [setting] = "false" },
        });
        await using var first = await ConsoleClient.OpenEchoingAsync(_node, _echoToken);
    }

    [Fact]
    public async Task EchoTarget_RelaysFourMegabytesByteExact_AndATargetsCloseArrivesAfterItsBytes()
    {
        const int size = 4 * 1024 * 1024;
        var payload = RandomNumberGenerator.GetBytes(size);
        await using (var client = await ConsoleClient.ConnectAsync(_node.WebSocketUri(_echoToken)))
        {
            var reading = client.ReadExactlyAsync(size, Timeout);
            for (var offset = 0; offset < size; offset += 60_000)
            {
                await client.SendAsync(payload.AsMemory(offset, Math.Min(60_000, size - offset)));
            }

            var echoed = await reading;
            Assert.True(payload.AsSpan().SequenceEqual(echoed), "echoed bytes differ from the bytes sent");
        }

        await using var closing = await ConsoleClient.ConnectAsync(_node.WebSocketUri(_closingToken));
        Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await closing.ReadExactlyAsync(12, Timeout)));
        var (status, reason) = await closing.ReadUntilCloseAsync(Timeout);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, status);
        Assert.Contains("target closed", reason, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _echo.DisposeAsync();
        await _closing.DisposeAsync();
    }
}
