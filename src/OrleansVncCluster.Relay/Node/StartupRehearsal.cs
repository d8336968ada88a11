using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Before the node says it is ready, relays console sessions through its own relay listener to a loopback RFB server of
/// its own, 16 at a time, each with a few messages both ways, until the JIT has gone quiet under that load or
/// <see cref="RelayOptions.StartupRehearsal"/> has passed.
/// </summary>
/// <remarks>
/// A just-started node runs the session path as ReadyToRun and tier-0 code, and the runtime compiles each hot method
/// again, twice (instrumented, then optimized), while users' sessions wait on the same two cores: a measured cold node
/// spent 1,100 µs of CPU a session against 390 µs once about 12,700 methods had been compiled under 20 s of mixed load,
/// and under sessions alone the recompilation trickles for longer than that, because new tier-0 code keeps postponing it
/// (docs/benchmarks.md, the cold node). A node that replaces a dead one takes all its load cold, so that cost is paid
/// here, where no user waits. The sessions take the same path as a user's (the upgrade, admission with leases, the
/// dial, the relay both ways, the close); <see cref="SessionRehearsal"/> keeps them out of the history, the session
/// counters, recording and the client limits. Its tokens are known to this node only, for the rehearsal only.
/// Any failure is logged and the node goes on to ready: a rehearsal never keeps a node out of service.
/// </remarks>
public sealed partial class StartupRehearsal(
    IOptionsMonitor<RelayOptions> options,
    SessionRehearsal rehearsal,
    TokenResolver resolver,
    ILogger<StartupRehearsal> logger)
{
    private const int Concurrency = 16;
    private static readonly byte[] Banner = "RFB 003.008\n"u8.ToArray();

    // Each session sends these in turn and reads each back (the server echoes): an input event's size and a
    // framebuffer update's, so both directions' small- and large-frame paths run.
    private static readonly int[] MessageBytes = [8, 16 * 1024, 6, 64 * 1024];

    // Quiet: the JIT compiled for less than this share of one core over the last window, with the load still on.
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan QuietJitPerWindow = TimeSpan.FromMilliseconds(50);

    // Never judged quiet before this: the first promotions wait for the runtime's call counting to begin.
    private static readonly TimeSpan Least = TimeSpan.FromSeconds(3);

    // Past the configured time, sessions in flight get this long to finish before they are cut.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    // Sessions relayed so far: the log lines say how far the rehearsal got.
    private int _relayed;

    /// <summary>Runs the rehearsal when one is configured; returns when it is over, failed or ran out of time.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        if (settings.StartupRehearsal <= TimeSpan.Zero || !ListenAddress.TryParse(settings.Listen, out var listen, out _))
        {
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        budget.CancelAfter(settings.StartupRehearsal + Grace);
        var clock = Stopwatch.StartNew();
        var (compiledBefore, jitBefore) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serving = ServeAsync(server, budget.Token);
        // A token for each worker: a console's session count is limited (Limits:MaxSessionsPerToken), a worker's is one.
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", ((IPEndPoint)server.LocalEndpoint).Port), Source = "rehearsal" };
        var tokens = Enumerable.Range(0, Concurrency).Select(_ => "rehearsal-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))).ToList();
        foreach (var token in tokens)
        {
            resolver.Remember(token, entry, settings.StartupRehearsal + Grace);
        }

        try
        {
            // A listener with an address of its own sees the sessions come from that address: SessionRehearsal is told.
            var address = ListenAddress.Dialable(listen.Address);
            bool quiet;
            using (rehearsal.Begin(address))
            using (var enough = new CancellationTokenSource())
            {
                var uris = tokens.Select(token => RelayUri(new IPEndPoint(address, listen.Port), settings, token)).ToList();
                var sessions = RehearseAsync(uris, settings.CertificateFile is { Length: > 0 }, enough, budget.Token);
                try
                {
                    quiet = await UntilQuietAsync(sessions, settings.StartupRehearsal, clock, budget.Token);
                }
                finally
                {
                    // The workers finish the session in hand (past the budget, they are cut); none outlives this block.
                    await enough.CancelAsync();
                    await sessions;
                }
            }

            LogRehearsed(logger, _relayed, System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore,
                (System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds,
                quiet ? "the JIT went quiet" : "its time ran out", clock.Elapsed.TotalMilliseconds);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever went wrong, the node still serves: a rehearsal only makes its first sessions faster.
            LogFailed(logger, _relayed, clock.Elapsed.TotalMilliseconds, exception.Message);
        }
        catch (Exception)
        {
            // The node is stopping: what the rehearsal ran into meanwhile does not matter.
        }
        finally
        {
            tokens.ForEach(resolver.Invalidate);
            server.Stop();
            await serving;
        }
    }

    /// <summary>
    /// Watches the JIT while the sessions run: true once, after <see cref="Least"/>, it compiled for less than
    /// <see cref="QuietJitPerWindow"/> in a <see cref="Window"/>; false when <paramref name="longest"/> passed first.
    /// Never quite zero: the node's timers and the silo keep reaching code for the first time.
    /// </summary>
    private static async Task<bool> UntilQuietAsync(Task sessions, TimeSpan longest, Stopwatch clock, CancellationToken cancellationToken)
    {
        var last = System.Runtime.JitInfo.GetCompilationTime();
        while (clock.Elapsed < longest)
        {
            var wait = Task.Delay(Window, cancellationToken);
            if (await Task.WhenAny(wait, sessions) == sessions)
            {
                await sessions; // A worker failed: its exception says why.
            }

            await wait;
            var now = System.Runtime.JitInfo.GetCompilationTime();
            if (clock.Elapsed >= Least && now - last < QuietJitPerWindow)
            {
                return true;
            }

            last = now;
        }

        return false;
    }

    private static Uri RelayUri(IPEndPoint relay, RelayOptions settings, string token)
    {
        var scheme = settings.CertificateFile is { Length: > 0 } ? "wss" : "ws";
        return new Uri($"{scheme}://{relay}{settings.Path}?token={token}");
    }

    /// <summary>
    /// The sessions, one worker for each URI, until <paramref name="enough"/>: each reads the banner, sends each of
    /// <see cref="MessageBytes"/> and reads it back, and closes. A worker that fails stops the others too, so the
    /// rehearsal ends with its reason instead of running on with fewer workers.
    /// </summary>
    private async Task RehearseAsync(List<Uri> uris, bool tls, CancellationTokenSource enough, CancellationToken cancellationToken)
    {
        var workers = uris.Select(async uri =>
        {
            try
            {
                await RehearseOneAsync(uri, tls, enough.Token, cancellationToken);
            }
            catch
            {
                await enough.CancelAsync();
                throw;
            }
        }).ToList();
        await Task.WhenAll(workers);
    }

    private async Task RehearseOneAsync(Uri uri, bool tls, CancellationToken enough, CancellationToken cancellationToken)
    {
        var message = new byte[MessageBytes.Max()];
        var buffer = new byte[message.Length];
        while (!enough.IsCancellationRequested)
        {
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader(SessionRehearsal.Header, rehearsal.Secret);
            socket.Options.AddSubProtocol("binary");
            if (tls)
            {
                // Its own listener: the certificate names the public host, not the address dialled here.
                socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }

            await socket.ConnectAsync(uri, cancellationToken);
            await ReceiveAsync(socket, buffer, Banner.Length, cancellationToken);
            foreach (var bytes in MessageBytes)
            {
                await socket.SendAsync(message.AsMemory(0, bytes), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
                await ReceiveAsync(socket, buffer, bytes, cancellationToken);
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "rehearsed", cancellationToken);
            Interlocked.Increment(ref _relayed);
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes, in as many messages as the relay framed them in.</summary>
    private static async Task ReceiveAsync(ClientWebSocket socket, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        for (var received = 0; received < count;)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(0, count - received), cancellationToken);
            if (read.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException($"the node closed its rehearsal session: {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            received += read.Count;
        }
    }

    /// <summary>The loopback RFB server: each connection gets the banner, then what it sends comes back, until the relay
    /// closes it.</summary>
    private static async Task ServeAsync(TcpListener server, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await server.AcceptSocketAsync(cancellationToken);
                connections.RemoveAll(connection => connection.IsCompleted);
                connections.Add(AnswerAsync(client, cancellationToken));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped: the rehearsal is over.
        }

        await Task.WhenAll(connections);
    }

    private static async Task AnswerAsync(Socket client, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                await client.SendAsync(Banner, SocketFlags.None, cancellationToken);
                var buffer = new byte[MessageBytes.Max()];
                int read;
                while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
                {
                    await client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException)
            {
                // The relay closed first, or the rehearsal ran out of time.
            }
        }
    }

    [LoggerMessage(EventId = EventIds.StartupRehearsed, Level = LogLevel.Information,
        Message = "Start-up rehearsal: {Relayed} sessions relayed through this node, {Compiled} methods compiled in {JitMs:F0} ms of JIT, over when {Reason} ({ElapsedMs:F0} ms in all)")]
    private static partial void LogRehearsed(ILogger logger, int relayed, long compiled, double jitMs, string reason, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StartupRehearsalFailed, Level = LogLevel.Warning,
        Message = "Start-up rehearsal stopped after {Relayed} sessions and {ElapsedMs:F0} ms: {Error}; the node goes on to ready, its first sessions will be slower")]
    private static partial void LogFailed(ILogger logger, int relayed, double elapsedMs, string error);
}
