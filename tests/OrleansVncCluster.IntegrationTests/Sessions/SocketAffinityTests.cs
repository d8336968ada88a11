using OrleansVncCluster.IntegrationTests.Infrastructure;

namespace OrleansVncCluster.IntegrationTests.Sessions;

/// <summary>
/// Relay:SocketAffinity, seen from outside the node: while a console echoes thousands of small messages, the CPU time
/// of the node's socket threads (the runtime's ".NET Sockets" threads, one per core with inline completions, read from
/// /proc) goes to one of them. Without the affinity the runtime deals a session's two sockets to two threads, one after
/// the other, and each direction's copy runs on its own: the time splits about evenly (docs/benchmarks.md), and this
/// test fails. <c>Relay:SocketAffinity=false</c> relays as the default does (<see cref="SocketAffinityOffTests"/>).
/// </summary>
public sealed class SocketAffinityTests : IAsyncLifetime
{
    private const string Token = "affinity-echo-token";
    private const int Messages = 20_000;

    private readonly TcpTarget _echo = TcpTarget.Echo();
    private RelayNodeProcess _node = null!;

    public async ValueTask InitializeAsync()
    {
        var directory = Repo.TempDirectory("affinity");
        _node = await RelayNodeProcess.StartAsync(new RelayNodeSettings
        {
            TokenFile = TokenFiles.Write(directory, (Token, $"127.0.0.1:{_echo.Port}")),
            SiloName = "affinity",
        });
    }

    [Fact]
    public async Task AnEchoingSession_SpendsItsSocketTime_OnOneSocketThread()
    {
        Assert.True(Environment.ProcessorCount >= 2, "the runtime runs one socket thread per core: this needs two cores");
        await _node.Process.WaitForOutputAsync("A session's two sockets on one socket thread: on", TimeSpan.FromSeconds(10));

        await using var client = await ConsoleClient.ConnectAsync(_node.WebSocketUri(Token));
        var message = new byte[1024];
        Random.Shared.NextBytes(message);
        var before = SocketThreadTicks(_node.Process.Pid);
        for (var i = 0; i < Messages; i++)
        {
            await client.SendAsync(message);
            var echoed = await client.ReadExactlyAsync(message.Length, TimeSpan.FromSeconds(10));
            Assert.True(message.AsSpan().SequenceEqual(echoed), $"message {i} came back changed");
        }

        var after = SocketThreadTicks(_node.Process.Pid);
        var spent = after.Select(thread => (thread.Key, Ticks: thread.Value - before.GetValueOrDefault(thread.Key))).Where(thread => thread.Ticks > 0).ToList();
        var total = spent.Sum(thread => thread.Ticks);
        var busiest = spent.Count == 0 ? 0 : spent.Max(thread => thread.Ticks);
        var shares = string.Join(", ", spent.Select(thread => $"thread {thread.Key}: {thread.Ticks} ticks"));
        Assert.True(total >= 10, $"the socket threads spent {total} ticks on {Messages} messages: too little to tell ({shares})");
        Assert.True(busiest >= 0.85 * total, $"the session's socket time is spread over the node's socket threads: {shares}");
    }

    /// <summary>CPU ticks (user and system) of each of the process's ".NET Sockets" threads, by thread id.</summary>
    private static Dictionary<int, long> SocketThreadTicks(int pid)
    {
        var ticks = new Dictionary<int, long>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() != ".NET Sockets")
                {
                    continue;
                }

                // The thread's name may hold spaces: the fields are counted from after its closing parenthesis, where
                // field 3 (the state) starts; utime and stime are fields 14 and 15.
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks[int.Parse(Path.GetFileName(task))] = long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return ticks;
    }

    public async ValueTask DisposeAsync()
    {
        await _node.DisposeAsync();
        await _echo.DisposeAsync();
    }
}
