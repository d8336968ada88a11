using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Sessions;
using OrleansVncCluster.Relay.Tickets;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Node;

/// <summary>
/// Before the node says it is ready, relays console sessions through its own relay listener to a loopback VNC server of
/// its own (<see cref="RehearsalVncServer"/>), 16 at a time, each with a few RFB messages both ways, until the JIT has
/// gone quiet under that load or <see cref="RelayOptions.StartupRehearsal"/> has passed.
/// </summary>
/// <remarks>
/// A just-started node runs the session path as ReadyToRun and tier-0 code, and the runtime compiles each hot method
/// again, twice (instrumented, then optimized), while users' sessions wait on the same two cores: a measured cold node
/// spent 1,100 µs of CPU a session against 390 µs once about 12,700 methods had been compiled under 20 s of mixed load,
/// and under sessions alone the recompilation trickles for longer than that, because new tier-0 code keeps postponing it
/// (docs/benchmarks.md, the cold node). A node that replaces a dead one takes all its load cold, so that cost is paid
/// here, where no user waits. The sessions take the same path as a user's (the upgrade, a ticket where the node issues
/// them, admission with the token's lease, the dial, the relay both ways as the node's settings make it relay: bytes as
/// they come, or its own login and a clipboard policy's parsing; the close); <see cref="SessionRehearsal"/> keeps them
/// out of the history (their records are only encoded, as its store would), the session counters, recording, every
/// client's limit (their leases go to a client grain of their own) and the target policy (its VNC server is the node's
/// own, on loopback). Its tokens are known to this node only, for the rehearsal only. Any failure is logged and
/// the node goes on to ready: a rehearsal never keeps a node out of service. A node with an Abiquo source also loads a
/// made-up inventory meanwhile (<see cref="AbiquoRehearsal"/>), so its first big sync is not its JIT's either.
/// </remarks>
public sealed partial class StartupRehearsal(
    IOptionsMonitor<RelayOptions> options,
    IOptions<TargetOptions> targets,
    IOptions<AbiquoOptions> abiquo,
    SessionRehearsal rehearsal,
    TokenResolver resolver,
    TicketKeyRing keys,
    TimeProvider time,
    ILogger<StartupRehearsal> logger)
{
    private const int Concurrency = 16;

    // Each session, after the handshake, runs these rounds: key and pointer events, clipboard text of the round's size,
    // then an update request the server answers with a Raw rectangle of side x side pixels (16 KiB, then 64 KiB), so
    // both directions' small- and large-message paths run, and every message is one a relay speaking RFB accepts.
    private static readonly (int Side, int ClipboardBytes)[] Rounds = [(64, 16 * 1024), (128, 64 * 1024)];
    private static readonly byte[] RawEncodingOnly = [2, 0, 0, 1, 0, 0, 0, 0];
    private static readonly byte[] KeyDown = [4, 1, 0, 0, 0, 0, 0, (byte)'r'];
    private static readonly byte[] KeyUp = [4, 0, 0, 0, 0, 0, 0, (byte)'r'];
    private static readonly byte[] Pointer = [5, 0, 0, 16, 0, 16];

    // The worker's RFB client: no TLS, no password (the rehearsal's server offers security None).
    private static readonly RfbTargetLogin BrowserLogin = new(new RfbTargetLoginOptions());
    private static readonly RfbTarget RehearsalTarget = new("rehearsal");

    // The JIT is judged one window at a time (JitQuiet).
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

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

        if (targets.Value.RequireTls)
        {
            // The node would refuse its own VNC server, which has no certificate a hypervisor CA could have signed.
            LogFailed(logger, 0, 0, "Targets:RequireTls is on, and the rehearsal's own VNC server has no TLS");
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        budget.CancelAfter(settings.StartupRehearsal + Grace);
        var clock = Stopwatch.StartNew();
        var (compiledBefore, jitBefore) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
        RehearsalVncServer? server = null;
        var inventoryRounds = 0;
        // A token for each worker: a console's session count is limited (Limits:MaxSessionsPerToken), a worker's is one.
        var tokens = Enumerable.Range(0, Concurrency).Select(_ => "rehearsal-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))).ToList();
        try
        {
            // Inside the try: an exception out of here would stop the host (a faulted BackgroundService), not just the
            // rehearsal.
            server = RehearsalVncServer.Start();
            var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("127.0.0.1", server.Port), Source = "rehearsal" };
            foreach (var token in tokens)
            {
                resolver.Remember(token, entry, settings.StartupRehearsal + Grace);
            }

            // A listener with an address of its own sees the sessions come from that address: SessionRehearsal is told.
            var address = ListenAddress.Dialable(listen.Address);
            bool quiet;
            using (rehearsal.Begin(address))
            using (var enough = new CancellationTokenSource())
            {
                var expires = time.GetUtcNow() + settings.StartupRehearsal + Grace;
                var uris = tokens.Select(token => RelayUri(new IPEndPoint(address, listen.Port), settings, Credential(token, entry, expires))).ToList();
                var sessions = RehearseAsync(uris, settings.CertificateFile is { Length: > 0 }, enough, budget.Token);
                var inventory = string.IsNullOrWhiteSpace(abiquo.Value.ApiUrl) ? Task.FromResult(0) : AbiquoRehearsal.RunAsync(enough.Token);
                var both = Task.WhenAll(sessions, inventory);
                try
                {
                    quiet = await UntilQuietAsync(both, settings.StartupRehearsal, clock, budget.Token);
                }
                finally
                {
                    // The workers finish the session in hand (past the budget, they are cut); none outlives this block,
                    // and a failure of either is observed here.
                    await enough.CancelAsync();
                    await both;
                    inventoryRounds = await inventory;
                }
            }

            LogRehearsed(logger, _relayed, inventoryRounds, System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore,
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
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What a worker presents: a ticket when this node issues them, sealed as a user's would be (so the rehearsal passes
    /// where plain tokens are refused, as shipped, and runs the ticket's path), else the plain token.
    /// </summary>
    private string Credential(string token, ConsoleTokenEntry entry, DateTimeOffset expires) => keys.SigningKey is { } key
        ? $"{TicketGate.QueryName}={TicketText.Issue(key, token, TicketBinding.Of(entry), expires, singleUse: false)}"
        : $"token={token}";

    /// <summary>
    /// Watches the JIT while the sessions run, a <see cref="Window"/> at a time: true once <see cref="JitQuiet"/> judges
    /// it quiet; false when <paramref name="longest"/> passed first. Never quite zero: the node's timers and the silo keep
    /// reaching code for the first time.
    /// </summary>
    private async Task<bool> UntilQuietAsync(Task sessions, TimeSpan longest, Stopwatch clock, CancellationToken cancellationToken)
    {
        var judge = new JitQuiet();
        var last = System.Runtime.JitInfo.GetCompilationTime();
        var lastRelayed = Volatile.Read(ref _relayed);
        while (clock.Elapsed < longest)
        {
            var wait = Task.Delay(Window, cancellationToken);
            if (await Task.WhenAny(wait, sessions) == sessions)
            {
                await sessions; // A worker failed: its exception says why.
            }

            await wait;
            var (now, nowRelayed) = (System.Runtime.JitInfo.GetCompilationTime(), Volatile.Read(ref _relayed));
            if (judge.Observe(clock.Elapsed, now - last, nowRelayed - lastRelayed))
            {
                return true;
            }

            (last, lastRelayed) = (now, nowRelayed);
        }

        return false;
    }

    private static Uri RelayUri(IPEndPoint relay, RelayOptions settings, string credential)
    {
        var scheme = settings.CertificateFile is { Length: > 0 } ? "wss" : "ws";
        return new Uri($"{scheme}://{relay}{settings.Path}?{credential}");
    }

    /// <summary>
    /// The sessions, one worker for each URI, until <paramref name="enough"/>: each does the RFB handshake, runs the
    /// <see cref="Rounds"/>, and closes. A worker that fails stops the others too, so the rehearsal ends with its reason
    /// instead of running on with fewer workers.
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
        var scratch = new byte[RehearsalVncServer.UpdateBytes(RehearsalVncServer.Width, RehearsalVncServer.Height)];
        var clipboard = new byte[8 + Rounds.Max(round => round.ClipboardBytes)];
        clipboard[0] = 6; // ClientCutText: type, 3 padding, length, Latin-1 text
        clipboard.AsSpan(8).Fill((byte)'r');
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
            var stream = new WebSocketByteStream(socket);
            try
            {
                // The browser's side of the handshake is the relay's own login: the same security None either way,
                // offered by the rehearsal's server when the node passes bytes through, by the node when it logs in.
                if (await BrowserLogin.LoginAsync(stream, RehearsalTarget, cancellationToken) is { Succeeded: false } login)
                {
                    throw new WebSocketException($"the rehearsal's RFB handshake failed: {login.Reason}");
                }

                await stream.WriteAsync(RawEncodingOnly, cancellationToken);
                foreach (var (side, clipboardBytes) in Rounds)
                {
                    await stream.WriteAsync(KeyDown, cancellationToken);
                    await stream.WriteAsync(KeyUp, cancellationToken);
                    await stream.WriteAsync(Pointer, cancellationToken);
                    BinaryPrimitives.WriteInt32BigEndian(clipboard.AsSpan(4), clipboardBytes);
                    await stream.WriteAsync(clipboard.AsMemory(0, 8 + clipboardBytes), cancellationToken);
                    await stream.WriteAsync(UpdateRequest(side), cancellationToken);
                    // The update comes after every message before the request has gone through the node.
                    await stream.ReadExactlyAsync(scratch.AsMemory(0, RehearsalVncServer.UpdateBytes(side, side)), cancellationToken);
                }
            }
            catch (EndOfStreamException)
            {
                throw new WebSocketException($"the node closed its rehearsal session: {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "rehearsed", cancellationToken);
            Interlocked.Increment(ref _relayed);
        }
    }

    private static byte[] UpdateRequest(int side) => [3, 0, 0, 0, 0, 0, 0, (byte)side, 0, (byte)side];

    [LoggerMessage(EventId = EventIds.StartupRehearsed, Level = LogLevel.Information,
        Message = "Start-up rehearsal: {Relayed} sessions relayed through this node, {InventoryRounds} made-up Abiquo inventories loaded, {Compiled} methods compiled in {JitMs:F0} ms of JIT, over when {Reason} ({ElapsedMs:F0} ms in all)")]
    private static partial void LogRehearsed(ILogger logger, int relayed, int inventoryRounds, long compiled, double jitMs, string reason, double elapsedMs);

    [LoggerMessage(EventId = EventIds.StartupRehearsalFailed, Level = LogLevel.Warning,
        Message = "Start-up rehearsal stopped after {Relayed} sessions and {ElapsedMs:F0} ms: {Error}; the node goes on to ready, its first sessions will be slower")]
    private static partial void LogFailed(ILogger logger, int relayed, double elapsedMs, string error);
}
