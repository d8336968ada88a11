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
/// Before the node says it is ready, opens <see cref="RelayOptions.StartupRehearsalSessions"/> console sessions through
/// its own relay listener to a loopback RFB server of its own, 16 at a time, then waits until the JIT is quiet.
/// </summary>
/// <remarks>
/// A just-started node's first sessions wait on the runtime's tiered compilation: the session path's methods are
/// compiled again, optimized, while they run, and sessions slow 16 at a time (docs/benchmarks.md, the cold node: cold
/// p99 19-82 ms against 17-30 ms without tiering). A node that replaces a dead one takes all its load cold, so that
/// cost is paid here instead, where no user waits. The sessions take the same path as a user's (the upgrade, admission
/// with leases, the dial, the relay, the close); <see cref="SessionRehearsal"/> keeps them out of the history, the
/// session counters, recording and the client limits. Its tokens are known to this node only, for the rehearsal only.
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
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);
    private const int JitQuietMethods = 10;
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan JitWaitMax = TimeSpan.FromSeconds(3);

    // Sessions relayed so far: the failure's log line says how far the rehearsal got.
    private int _relayed;

    /// <summary>Runs the rehearsal when one is configured; returns when it is over, failed or ran out of time.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        if (settings.StartupRehearsalSessions <= 0 || !ListenAddress.TryParse(settings.Listen, out var listen, out _))
        {
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        budget.CancelAfter(Budget);
        var clock = Stopwatch.StartNew();
        var compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serving = ServeAsync(server, budget.Token);
        // A token for each worker: a console's session count is limited (Limits:MaxSessionsPerToken), a worker's is one.
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", ((IPEndPoint)server.LocalEndpoint).Port), Source = "rehearsal" };
        var tokens = Enumerable.Range(0, Math.Min(Concurrency, settings.StartupRehearsalSessions))
            .Select(_ => "rehearsal-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))).ToList();
        foreach (var token in tokens)
        {
            resolver.Remember(token, entry, Budget);
        }

        try
        {
            var address = Reachable(listen.Address);
            using (rehearsal.Begin(address))
            {
                var uris = tokens.Select(token => RelayUri(new IPEndPoint(address, listen.Port), settings, token)).ToList();
                await RehearseAsync(uris, settings.StartupRehearsalSessions, settings.CertificateFile is { Length: > 0 }, budget.Token);
            }

            var settled = await JitSettledAsync(budget.Token);
            LogRehearsed(logger, _relayed, settings.StartupRehearsalSessions, System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore,
                settled.TotalMilliseconds, clock.Elapsed.TotalMilliseconds);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever went wrong, the node still serves: a rehearsal only makes its first sessions faster.
            LogFailed(logger, _relayed, settings.StartupRehearsalSessions, exception.Message);
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

    /// <summary>Where the rehearsal reaches the relay listener: loopback for a wildcard one, else its own address (the
    /// sessions then come from that address, which <see cref="SessionRehearsal"/> is told).</summary>
    private static IPAddress Reachable(IPAddress listen) =>
        listen.Equals(IPAddress.Any) ? IPAddress.Loopback : listen.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : listen;

    private static Uri RelayUri(IPEndPoint relay, RelayOptions settings, string token)
    {
        var scheme = settings.CertificateFile is { Length: > 0 } ? "wss" : "ws";
        return new Uri($"{scheme}://{relay}{settings.Path}?token={token}");
    }

    /// <summary>The sessions, one worker for each URI; each session reads the banner, sends a message back and closes.</summary>
    private async Task RehearseAsync(List<Uri> uris, int count, bool tls, CancellationToken cancellationToken)
    {
        var next = 0;
        var workers = uris.Select(async uri =>
        {
            var buffer = new byte[64];
            while (Interlocked.Increment(ref next) <= count)
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
                var read = await socket.ReceiveAsync(buffer, cancellationToken);
                if (read.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException($"the node refused its rehearsal session: {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                }

                await socket.SendAsync(Banner, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "rehearsed", cancellationToken);
                Interlocked.Increment(ref _relayed);
            }
        }).ToList();
        await Task.WhenAll(workers);
    }

    /// <summary>The loopback RFB server: each connection gets the banner, and is read until the relay closes it.</summary>
    private static async Task ServeAsync(TcpListener server, CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await server.AcceptSocketAsync(cancellationToken);
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
                var buffer = new byte[256];
                while (await client.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
                {
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException)
            {
                // The relay closed first, or the rehearsal ran out of time.
            }
        }
    }

    /// <summary>
    /// Waits until the JIT compiles fewer than <see cref="JitQuietMethods"/> methods in <see cref="JitQuiet"/> (the
    /// promotions run on its background thread), at most <see cref="JitWaitMax"/>. Never quite zero: the node's timers
    /// and the silo keep reaching code for the first time.
    /// </summary>
    private static async Task<TimeSpan> JitSettledAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (clock.Elapsed < JitWaitMax)
        {
            await Task.Delay(JitQuiet, cancellationToken);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now - last < JitQuietMethods)
            {
                break;
            }

            last = now;
        }

        return clock.Elapsed;
    }

    [LoggerMessage(EventId = EventIds.StartupRehearsed, Level = LogLevel.Information,
        Message = "Start-up rehearsal: {Relayed} of {Sessions} sessions relayed through this node, {Compiled} methods compiled, the JIT quiet after {SettledMs:F0} ms ({ElapsedMs:F0} ms in all)")]
    private static partial void LogRehearsed(ILogger logger, int relayed, int sessions, long compiled, double settledMs, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StartupRehearsalFailed, Level = LogLevel.Warning,
        Message = "Start-up rehearsal stopped after {Relayed} of {Sessions} sessions: {Error}; the node goes on to ready, its first sessions will be slower")]
    private static partial void LogFailed(ILogger logger, int relayed, int sessions, string error);
}
