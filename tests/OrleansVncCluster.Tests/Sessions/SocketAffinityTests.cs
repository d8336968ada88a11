using System.Net;
using System.Net.Sockets;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Sessions;

/// <summary>
/// The runtime's fields <see cref="SocketAffinity"/> rests on are there on this runtime (a runtime update that renames
/// them fails here, not silently in production), and a socket the dialler makes shares its companion's thread. This
/// process runs as many socket threads as the runtime gives it (often one); the effect across two threads is shown on
/// a node (IntegrationTests/Sessions/SocketAffinityTests).
/// </summary>
public sealed class SocketAffinityTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<IDisposable> _sockets = [];

    public SocketAffinityTests() => _listener.Start();

    [Fact]
    public void ThisRuntime_HasTheFieldsTheAffinityRestsOn()
    {
        Assert.True(SocketAffinity.Available, "the runtime's socket engine fields were not found: Relay:SocketAffinity does nothing");
        Assert.True(SocketAffinity.ThreadCount >= 1, $"{SocketAffinity.ThreadCount} socket threads");
        Assert.StartsWith("on, ", SocketAffinity.Describe(enabled: true), StringComparison.Ordinal);
        Assert.Equal("off", SocketAffinity.Describe(enabled: false));
    }

    [Fact]
    public async Task ASocketIsOnAThread_OnceAnOperationOfItsWaited()
    {
        var (accepted, _) = await PairAsync();
        Assert.Equal(-1, SocketAffinity.ThreadOf(accepted));

        _ = accepted.ReceiveAsync(new byte[1], SocketFlags.None);

        Assert.InRange(SocketAffinity.ThreadOf(accepted), 0, SocketAffinity.ThreadCount - 1);
    }

    [Fact]
    public async Task TheDialledSocket_SharesItsCompanionsThread()
    {
        var dialer = new TargetDialer();
        var target = ConsoleTarget.Tcp("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
        for (var i = 0; i < 8; i++)
        {
            var (companion, _) = await PairAsync();
            _ = companion.ReceiveAsync(new byte[1], SocketFlags.None);
            var accepting = _listener.AcceptSocketAsync();

            // On loopback the dial's connect may complete at once, which registers nothing by itself: the dialled socket
            // is on a thread, its companion's, with no operation of its own yet.
            var dialled = await dialer.DialAsync(target, TimeSpan.FromSeconds(5), CancellationToken.None, companion);
            _sockets.Add(dialled);
            _sockets.Add(await accepting);

            Assert.Equal(SocketAffinity.ThreadOf(companion), SocketAffinity.ThreadOf(dialled.Socket));
            Assert.NotEqual(-1, SocketAffinity.ThreadOf(dialled.Socket));
        }
    }

    private async Task<(Socket Accepted, Socket Connected)> PairAsync()
    {
        var connected = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var accepting = _listener.AcceptSocketAsync();
        await connected.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        var accepted = await accepting;
        _sockets.Add(connected);
        _sockets.Add(accepted);
        return (accepted, connected);
    }

    public ValueTask DisposeAsync()
    {
        _sockets.ForEach(socket => socket.Dispose());
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
