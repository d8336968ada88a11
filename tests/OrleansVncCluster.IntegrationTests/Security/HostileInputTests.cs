using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Security;

/// <summary>One node that every hostile case is thrown at, with an echo target for the good sessions in between.</summary>
public sealed class HostileNodeFixture : IAsyncLifetime
{
    public const string EchoToken = "hostile-echo-token-01";

    /// <summary>A target that reads and never answers: protocol errors are judged with no relayed data racing the close.</summary>
    public const string SinkToken = "hostile-sink-token-01";
    public const int MaxMessageBytes = 65536;

    /// <summary>Resident memory the node may reach during the battery (an idle node uses about a third of it).</summary>
    public const long RssBoundBytes = 512L * 1024 * 1024;

    public TcpTarget Echo { get; } = TcpTarget.Echo();
    public TcpTarget Sink { get; } = TcpTarget.Custom(async (stream, ct) =>
    {
        var buffer = new byte[64 * 1024];
        while (await stream.ReadAsync(buffer, ct) > 0)
        {
        }
    });
    public RelayNodeProcess Node { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory("hostile");
        Node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (EchoToken, $"127.0.0.1:{Echo.Port}"), (SinkToken, $"127.0.0.1:{Sink.Port}")),
            SiloName = "hostile",
            Environment =
            {
                ["Relay__MaxMessageBytes"] = MaxMessageBytes.ToString(CultureInfo.InvariantCulture),
                ["Relay__HandshakeTimeout"] = "00:00:02",
            },
        });
        await using var first = await ConsoleClient.OpenEchoingAsync(Node, EchoToken);
    }

    /// <summary>The node's resident set size, from /proc/PID/status.</summary>
    public long RssBytes()
    {
        var line = File.ReadLines($"/proc/{Node.Process.Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Echo.DisposeAsync();
        await Sink.DisposeAsync();
    }
}

/// <summary>
/// The hostile-input battery: malformed HTTP, TLS on the plain port, huge headers, bad frames, control-frame abuse,
/// slow handshakes and token floods against one running node. Each case must get a defined answer (an HTTP status line
/// or a WebSocket close code), and after each the node must still run, stay under a memory bound and relay a good session.
/// </summary>
public sealed class HostileInputTests(HostileNodeFixture fixture, ITestOutputHelper output) : IClassFixture<HostileNodeFixture>
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(10);
    private readonly RelayNodeProcess _node = fixture.Node;

    private string EchoPath => $"/websockify?token={HostileNodeFixture.EchoToken}";

    private string SinkPath => $"/websockify?token={HostileNodeFixture.SinkToken}";

    [Fact]
    public async Task GarbageBytes_Get400Or408()
    {
        for (var i = 0; i < 20; i++)
        {
            await using var socket = await RawWebSocket.ConnectTcpAsync(_node.Port);
            var garbage = RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(1, 8192));
            garbage[0] = (byte)'\x01'; // never a valid method's first byte
            await socket.SendRawAsync(garbage);
            await socket.ReadResponseHeadAsync(Answer);

            // 400 as soon as the request line is known to be bad; 408 when no line end ever came (the handshake timeout).
            Assert.True(socket.StatusLine is "HTTP/1.1 400 Bad Request" or "HTTP/1.1 408 Request Timeout", $"garbage was answered '{socket.StatusLine}'");
        }

        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task TruncatedHandshakes_AreClosedWithoutAnUpgrade()
    {
        var full = $"GET {EchoPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        foreach (var cut in new[] { 1, 3, 10, 30, 60, full.Length - 2 })
        {
            await using var socket = await RawWebSocket.ConnectTcpAsync(_node.Port);
            await socket.SendRawAsync(Encoding.ASCII.GetBytes(full[..cut]));
            socket.ShutdownSend();
            await socket.ReadResponseHeadAsync(Answer);
            Assert.True(socket.StatusLine is "" || socket.StatusLine.StartsWith("HTTP/1.1 400", StringComparison.Ordinal),
                $"a handshake cut after {cut} bytes was answered '{socket.StatusLine}'");
            Assert.True(await socket.ClosedByServerAsync(Answer), $"a handshake cut after {cut} bytes left the connection open");
        }

        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task TlsClientHelloOnThePlainPort_Gets400()
    {
        // The start of a real TLS 1.2 ClientHello record: handshake (0x16), version 3.1, then a ClientHello.
        byte[] hello = [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, .. RandomNumberGenerator.GetBytes(160)];
        await using var socket = await RawWebSocket.ConnectTcpAsync(_node.Port);
        await socket.SendRawAsync(hello);
        await socket.ReadResponseHeadAsync(Answer);
        Assert.StartsWith("HTTP/1.1 400", socket.StatusLine, StringComparison.Ordinal);
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task HugeHeaders_Get431()
    {
        await using var socket = await RawWebSocket.ConnectTcpAsync(_node.Port);
        var header = new string('a', 128 * 1024);
        await socket.SendRawAsync(Encoding.ASCII.GetBytes($"GET {EchoPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {header}\r\n\r\n"));
        await socket.ReadResponseHeadAsync(Answer);
        Assert.StartsWith("HTTP/1.1 431", socket.StatusLine, StringComparison.Ordinal);
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task OversizedFrame_Closes1009WithReason()
    {
        await using var socket = await OpenEchoSessionAsync();
        await socket.SendFrameAsync(Opcode.Binary, new byte[HostileNodeFixture.MaxMessageBytes + 4096]);
        await AssertClosedAsync(socket, 1009, $"message larger than {HostileNodeFixture.MaxMessageBytes} bytes");

        // A header that announces an exabyte: refused as soon as one byte past the limit has arrived, never buffered
        // whole, and not left waiting for a buffer's worth more.
        await using var liar = await OpenEchoSessionAsync();
        await liar.SendRawAsync(RawWebSocket.BuildFrame(Opcode.Binary, [], declaredLength: 1L << 60));
        await liar.SendRawAsync(new byte[HostileNodeFixture.MaxMessageBytes + 1]);
        await AssertClosedAsync(liar, 1009, $"message larger than {HostileNodeFixture.MaxMessageBytes} bytes");
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task FragmentedMessages_AreRelayed_AndTheirTotalIsCapped()
    {
        await using var socket = await OpenEchoSessionAsync();
        await socket.SendFrameAsync(Opcode.Binary, "abc"u8.ToArray(), fin: false);
        await socket.SendFrameAsync(Opcode.Continuation, "def"u8.ToArray(), fin: false);
        await socket.SendFrameAsync(Opcode.Ping, "in-between"u8.ToArray());
        await socket.SendFrameAsync(Opcode.Continuation, "ghi"u8.ToArray());
        Assert.Equal("abcdefghi", Encoding.ASCII.GetString(await ReadBinaryAsync(socket, 9)));

        // Small fragments adding up past the message limit.
        var fragment = new byte[16 * 1024];
        await socket.SendFrameAsync(Opcode.Binary, fragment, fin: false);
        for (var i = 0; i < 5; i++)
        {
            await socket.SendFrameAsync(Opcode.Continuation, fragment, fin: false);
        }

        await AssertClosedAsync(socket, 1009, $"message larger than {HostileNodeFixture.MaxMessageBytes} bytes");

        // A continuation with no message to continue, and a new message inside an unfinished one. Against the sink: .NET's
        // WebSocket can lose its own 1002 close frame when an echoed frame is being sent at that instant.
        await using var orphan = await OpenSessionAsync(SinkPath);
        await orphan.SendFrameAsync(Opcode.Continuation, "x"u8.ToArray());
        await AssertClosedAsync(orphan, 1002);
        await using var interleaved = await OpenSessionAsync(SinkPath);
        await interleaved.SendFrameAsync(Opcode.Binary, "x"u8.ToArray(), fin: false);
        await interleaved.SendFrameAsync(Opcode.Binary, "y"u8.ToArray());
        await AssertClosedAsync(interleaved, 1002);
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task UnmaskedClientFrame_Closes1002()
    {
        await using var socket = await OpenSessionAsync(SinkPath);
        await socket.SendFrameAsync(Opcode.Binary, "unmasked"u8.ToArray(), masked: false);
        await AssertClosedAsync(socket, 1002);
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task TextFrame_Closes1003WithReason()
    {
        await using var socket = await OpenEchoSessionAsync();
        await socket.SendFrameAsync(Opcode.Text, "hello"u8.ToArray());
        await AssertClosedAsync(socket, 1003, "text frames are not supported: send binary frames");
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task ControlFrameAbuse_OversizedOrFragmentedPing_Closes1002_AndAPingFloodIsAnswered()
    {
        await using (var oversized = await OpenSessionAsync(SinkPath))
        {
            await oversized.SendFrameAsync(Opcode.Ping, new byte[126]);
            await AssertClosedAsync(oversized, 1002);
        }

        await using (var fragmented = await OpenSessionAsync(SinkPath))
        {
            await fragmented.SendFrameAsync(Opcode.Ping, "half"u8.ToArray(), fin: false);
            await AssertClosedAsync(fragmented, 1002);
        }

        // A flood of full-size pings in one burst: answered with pongs, and the session still relays afterwards.
        await using var flood = await OpenEchoSessionAsync();
        const int Pings = 2000;
        var burst = new MemoryStream();
        for (var i = 0; i < Pings; i++)
        {
            burst.Write(RawWebSocket.BuildFrame(Opcode.Ping, new byte[125]));
        }

        var pongs = 0;
        var reader = Task.Run(async () =>
        {
            while (pongs < Pings)
            {
                var frame = await flood.ReadFrameAsync(Answer) ?? throw new InvalidOperationException($"closed after {pongs} pongs");
                Assert.Equal(Opcode.Pong, frame.Opcode);
                pongs++;
            }
        });
        await flood.SendRawAsync(burst.ToArray());
        await reader;
        await flood.SendFrameAsync(Opcode.Binary, "still here"u8.ToArray());
        Assert.Equal("still here", Encoding.ASCII.GetString(await ReadBinaryAsync(flood, 10)));
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task SlowDripHandshake_IsClosedByTheHandshakeTimeout()
    {
        await using var socket = await RawWebSocket.ConnectTcpAsync(_node.Port);
        var request = Encoding.ASCII.GetBytes($"GET {EchoPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
        var closed = false;
        foreach (var b in request)
        {
            try
            {
                await socket.SendRawAsync(new[] { b });
            }
            catch (IOException)
            {
                closed = true;
                break;
            }

            // One byte at a time: the drip outlasts the 2 s handshake timeout long before the headers end.
            if (await socket.ClosedByServerAsync(TimeSpan.FromMilliseconds(250)))
            {
                closed = true;
                break;
            }
        }

        Assert.True(closed, "the node kept a dripping handshake open past its handshake timeout");
        await AssertNodeHealthyAsync();
    }

    [Fact]
    public async Task ThousandsOfUnknownTokens_Each4404()
    {
        const int Tokens = 2000;
        var answered = 0;
        await Parallel.ForAsync(0, Tokens, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

            // Spread over loopback addresses, as a distributed guesser would be.
            var from = new IPAddress([127, 0, 1, (byte)(1 + (i % 200))]);
            await using var socket = await RawWebSocket.OpenAsync(_node.Port, $"/websockify?token={token}", Answer, from);
            Assert.StartsWith("HTTP/1.1 101", socket.StatusLine, StringComparison.Ordinal);
            var close = await socket.ReadUntilCloseAsync(Answer);
            Assert.NotNull(close);
            Assert.Equal(4404, close.CloseCode);
            Assert.Equal("unknown console token", close.CloseReason);
            await socket.SendRawAsync(RawWebSocket.CloseFrame(4404));
            Interlocked.Increment(ref answered);
        });

        Assert.Equal(Tokens, answered);
        await AssertNodeHealthyAsync();
    }

    private Task<RawWebSocket> OpenEchoSessionAsync() => OpenSessionAsync(EchoPath);

    private async Task<RawWebSocket> OpenSessionAsync(string path)
    {
        var socket = await RawWebSocket.OpenAsync(_node.Port, path, Answer);
        Assert.StartsWith("HTTP/1.1 101", socket.StatusLine, StringComparison.Ordinal);
        return socket;
    }

    private static async Task<byte[]> ReadBinaryAsync(RawWebSocket socket, int count)
    {
        var data = new List<byte>();
        while (data.Count < count)
        {
            var frame = await socket.ReadFrameAsync(Answer) ?? throw new InvalidOperationException($"closed after {data.Count} of {count} bytes");
            if (frame.Opcode == Opcode.Binary)
            {
                data.AddRange(frame.Payload);
            }
            else if (frame.Opcode == Opcode.Close)
            {
                throw new InvalidOperationException($"closed with {frame.CloseCode} {frame.CloseReason} after {data.Count} of {count} bytes");
            }
        }

        return [.. data];
    }

    private static async Task AssertClosedAsync(RawWebSocket socket, int code, string? reason = null)
    {
        var close = await socket.ReadUntilCloseAsync(Answer);
        Assert.True(close is not null, $"the node dropped the connection instead of closing with {code}");
        Assert.Equal(code, close.CloseCode);
        if (reason is not null)
        {
            Assert.Equal(reason, close.CloseReason);
        }
    }

    private async Task AssertNodeHealthyAsync()
    {
        Assert.False(_node.Process.HasExited, $"the node exited with {(_node.Process.HasExited ? _node.Process.ExitCode : 0)}:\n{_node.Process.Tail()}");
        var rss = fixture.RssBytes();
        output.WriteLine($"node RSS after the case: {rss / (1024 * 1024)} MiB");
        Assert.True(rss < HostileNodeFixture.RssBoundBytes, $"node RSS {rss / (1024 * 1024)} MiB is above the {HostileNodeFixture.RssBoundBytes / (1024 * 1024)} MiB bound");
        await using var good = await ConsoleClient.OpenEchoingAsync(_node, HostileNodeFixture.EchoToken);
    }
}
