using System.Net.Sockets;
using OrleansVncCluster.Benchmarks.Clients;
using OrleansVncCluster.Benchmarks.Targets;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Tests.Benchmarks;

/// <summary>The bench's password-protected RFB target, checked against the relay's own login and the bench's client.</summary>
public sealed class BenchRfbTargetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("bench-pw")]
    [InlineData("secret12-and-more")]
    [InlineData("x")]
    public void BenchResponse_EqualsTheRelays(string password)
    {
        var challenge = Enumerable.Range(0, 16).Select(i => (byte)(i * 17 + 3)).ToArray();

        Assert.Equal(RfbVncAuthentication.Respond(password, challenge), VncAuthentication.Response(password, challenge));
    }

    [Fact]
    public async Task RelayLogin_WithTheKnownPassword_ReachesTheTargetsServerInit_ThenTheBell()
    {
        var (result, firstByteAfter) = await RelayLoginAsync("bench-pw");

        Assert.True(result.Succeeded, result.Reason);
        Assert.Equal(RfbServerHandshake.ServerInit, result.ServerInit!.Bytes.ToArray());
        Assert.Equal(2, firstByteAfter);
    }

    [Fact]
    public async Task RelayLogin_WithAWrongPassword_IsRefused()
    {
        var (result, _) = await RelayLoginAsync("wrong-pw");

        Assert.False(result.Succeeded);
        Assert.Equal(RfbFailureKind.AuthenticationFailed, result.Failure);
    }

    /// <summary>The relay's own RfbTargetLogin against a banner target protected by "bench-pw"; the byte after ServerInit, or -1.</summary>
    private static async Task<(RfbTargetLoginResult Result, int FirstByteAfter)> RelayLoginAsync(string password)
    {
        await using var target = new TargetServer(TargetKind.Banner, "bench-pw");
        using var socket = await ConnectAsync(target.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var result = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(stream, new RfbTarget("127.0.0.1", Password: password));
        if (!result.Succeeded)
        {
            return (result, -1);
        }

        var next = new byte[1];
        using var deadline = new CancellationTokenSource(Timeout);
        return (result, await stream.ReadAsync(next, deadline.Token) == 1 ? next[0] : -1);
    }

    [Fact]
    public async Task BenchClient_AnsweringTheChallengeItself_EchoesAfterServerInit()
    {
        await using var target = new TargetServer(TargetKind.Echo, "bench-pw");
        var endpoint = new RfbEndpoint(new TcpEndpoint(new Dictionary<string, int> { ["rfb-echo"] = target.Port }), "rfb-", "bench-pw", relayLogsIn: false);
        using var deadline = new CancellationTokenSource(Timeout);

        using var connection = await endpoint.ConnectAsync(TargetNames.Echo, ConnectionProfile.Light, deadline.Token);
        await connection.SendAsync(new byte[] { 7, 8, 9 }, deadline.Token);
        var back = new byte[3];
        var read = 0;
        while (read < back.Length)
        {
            read += await connection.ReceiveAsync(back.AsMemory(read), deadline.Token);
        }

        Assert.Equal(new byte[] { 7, 8, 9 }, back);
    }

    [Fact]
    public async Task BenchClient_ExpectingTheRelayToLogIn_FailsWhenOfferedVncAuthentication()
    {
        await using var target = new TargetServer(TargetKind.Echo, "bench-pw");
        var endpoint = new RfbEndpoint(new TcpEndpoint(new Dictionary<string, int> { ["rfb-login-echo"] = target.Port }), "rfb-login-", "bench-pw", relayLogsIn: true);
        using var deadline = new CancellationTokenSource(Timeout);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => endpoint.ConnectAsync(TargetNames.Echo, ConnectionProfile.Light, deadline.Token));

        Assert.Contains("did not log in", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("bench-pw")]
    public async Task Source_WhoseClientEndsItsStreamWithoutReading_ClosesTheConnection(string? password)
    {
        // The relay ends a download session with a FIN while the source's sends fill a window it no longer opens; a send
        // held there waited out the kernel's FIN_WAIT_2 timeout (60 s), and every bench round with it.
        await using var target = new TargetServer(TargetKind.Source, password);
        using var socket = await ConnectAsync(target.Port);
        if (password is not null)
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            var login = await new RfbTargetLogin(new RfbTargetLoginOptions()).LoginAsync(stream, new RfbTarget("127.0.0.1", Password: password));
            Assert.True(login.Succeeded, login.Reason);
        }

        await WaitUntilAsync(() => target.Open == 1);
        socket.ReceiveBufferSize = 4096;
        await Task.Delay(200); // the source fills the window
        socket.Shutdown(SocketShutdown.Send);

        await WaitUntilAsync(() => target.Open == 0);
        Assert.Equal(0, target.Open);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync("127.0.0.1", port, deadline.Token);
        return socket;
    }
}
