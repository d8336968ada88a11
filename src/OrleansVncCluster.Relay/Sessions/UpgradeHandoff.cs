using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// A connection middleware on the public listener that lets a console session outlive Kestrel's HTTP layer on its own
/// connection (<c>Relay:UpgradeHandoff</c>). Kestrel keeps an upgraded request's HTTP/1.1 objects (the connection's
/// parser state, the request and response headers, the body and output machinery, the HttpContext: about 6 KB) until
/// the request delegate returns, which for a console is its whole life. Here Kestrel still parses the request, runs the
/// middleware and sends the 101; then the endpoint returns and the session runs on, after Kestrel's HTTP layer is done,
/// on the connection's transport, with only the transport and the session held.
/// </summary>
/// <remarks>
/// Kestrel's HTTP layer sees the connection through <see cref="HttpSide"/>: the same connection, except that once the
/// WebSocket has taken the transport over (<see cref="AcceptWebSocketAsync"/>, right after the 101), what the HTTP
/// layer does to it on its way out (completing the pipes, cancelling a read, aborting) no longer reaches the
/// connection, and its heartbeat (which would keep the HTTP layer reachable) is let go. Kestrel still disposes the
/// connection when this middleware returns.
/// <para>
/// With direct sends (<c>Relay:DirectSends</c>, a listener without TLS), a session whose 101 is the first thing its
/// connection answers writes to the browser's socket itself: Kestrel's output pipe would copy every frame once more and
/// hand it to a send loop on another thread. The 101 goes the same way, so nothing the connection sends can be left
/// behind in the pipe, unsent, when the session's first frame overtakes it. Kestrel still reads the socket.
/// </para>
/// </remarks>
public sealed class UpgradeHandoff : IConnectionHeartbeatFeature
{
    private readonly ConnectionContext _connection;
    private readonly UpgradedConnections _upgraded;
    private readonly bool _directSends;
    private HttpSideWriter? _writer;
    private Socket? _direct;
    private Action<object>? _heartbeat;
    private object? _heartbeatState;
    private bool _beating;
    private Func<ConnectionContext, Task>? _session;
    private volatile bool _takenOver;

    private UpgradeHandoff(ConnectionContext connection, UpgradedConnections upgraded, bool directSends) =>
        (_connection, _upgraded, _directSends) = (connection, upgraded, directSends);

    /// <summary>
    /// The middleware for one listener, for <c>ListenOptions.Use</c>: after any TLS middleware, before Kestrel's HTTP
    /// layer. <paramref name="maxUpgraded"/> is Kestrel's upgraded-connection cap (Hosting/ConnectionCaps.cs): Kestrel
    /// stops counting a connection once its request returns, so the listener counts its upgraded connections itself, to
    /// their close, and refuses an upgrade beyond the cap as Kestrel does. <paramref name="directSends"/>: sessions
    /// write to the browser's socket themselves; only for a listener whose connections are the plain socket (no TLS).
    /// </summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Listener(long? maxUpgraded, bool directSends = false)
    {
        var upgraded = new UpgradedConnections(maxUpgraded);
        return next => connection => new UpgradeHandoff(connection, upgraded, directSends).RunAsync(next);
    }

    /// <summary>The handoff of the request's connection, when it runs under this middleware.</summary>
    public static UpgradeHandoff? Of(HttpContext context) => context.Features.Get<UpgradeHandoff>();

    /// <summary>True once the session owns the transport.</summary>
    public bool TakenOver => _takenOver;

    /// <summary>True when the session writes to the browser's socket itself rather than through Kestrel's output pipe.</summary>
    public bool SendsDirect => _direct is not null;

    /// <summary>
    /// Accepts the request's WebSocket on the connection's transport: the handshake's answer (RFC 6455 section 4.2.2),
    /// Kestrel's upgrade, which writes the 101, then the takeover. ASP.NET Core's <c>AcceptWebSocketAsync</c> is not
    /// used: its WebSocket would abort the request when aborted, a request Kestrel is done with by then. The request
    /// was checked as a WebSocket upgrade before (<c>IsWebSocketRequest</c> validates its key and version). Throws
    /// <see cref="InvalidOperationException"/> at Kestrel's upgraded-connection cap, as <c>AcceptWebSocketAsync</c> does.
    /// </summary>
    public async Task<(WebSocket Socket, BrowserFrameStream? Frames)> AcceptWebSocketAsync(
        HttpContext context, IHttpUpgradeFeature upgrade, string? subProtocol, TimeSpan keepAliveInterval, TimeSpan keepAliveTimeout, bool inPlaceFrames)
    {
        if (!_upgraded.TryAdd())
        {
            throw new InvalidOperationException("the listener is at its upgraded-connection cap");
        }

        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = AcceptKey(context.Request.Headers.SecWebSocketKey.ToString());
        if (subProtocol is not null)
        {
            headers.SecWebSocketProtocol = subProtocol;
        }

        // Only while the connection has sent nothing through the pipe: the 101 then goes on the socket too, and every
        // byte after it follows in order.
        if (_directSends && _writer is { Pristine: true } writer && _connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } direct)
        {
            // Sends are tried without waiting first (Sessions/TransportStream); Kestrel's own calls are all asynchronous.
            direct.Blocking = false;
            writer.SendDirect(direct);
            _direct = direct;
        }

        try
        {
            await upgrade.UpgradeAsync();
        }
        catch
        {
            // Kestrel's own cap refuses before writing anything: the answer the caller gives instead is no upgrade.
            _upgraded.Remove();
            if (!context.Response.HasStarted)
            {
                headers.Remove(HeaderNames.Connection);
                headers.Remove(HeaderNames.Upgrade);
                headers.Remove(HeaderNames.SecWebSocketAccept);
                headers.Remove(HeaderNames.SecWebSocketProtocol);
            }

            throw;
        }

        _takenOver = true;
        _writer = null;
        var transport = new TransportStream(_connection, _direct);
        var frames = inPlaceFrames ? new BrowserFrameStream(transport) : null;
        var socket = WebSocket.CreateFromStream(frames ?? (Stream)transport, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = subProtocol,
            KeepAliveInterval = keepAliveInterval,
            KeepAliveTimeout = keepAliveTimeout,
        });
        transport.WebSocket = socket;
        return (socket, frames);
    }

    /// <summary>Sec-WebSocket-Accept for a client's key: base64 of the SHA-1 of the key and RFC 6455's GUID.</summary>
    internal static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    /// <summary>Runs <paramref name="session"/> once Kestrel's HTTP layer is done with the connection; the connection
    /// stays open until it returns. Call at most once, after <see cref="AcceptWebSocketAsync"/>, then return from the
    /// request.</summary>
    public void ContinueWith(Func<ConnectionContext, Task> session) => _session = session;

    private async Task RunAsync(ConnectionDelegate next)
    {
        try
        {
            await next(new HttpSide(this));

            // The HTTP layer is done: nothing of it stays reachable from the connection.
            (_heartbeat, _heartbeatState, _writer) = (null, null, null);
            if (_takenOver && Interlocked.Exchange(ref _session, null) is { } session)
            {
                await session(_connection);
            }
        }
        finally
        {
            (_heartbeat, _heartbeatState) = (null, null);
            if (_takenOver)
            {
                await CloseAsync();
                _upgraded.Remove();
            }
        }
    }

    /// <summary>
    /// Ends the connection the way Kestrel's HTTP layer ends an upgraded one: what the session wrote goes, then the FIN;
    /// a browser that does not take it within <see cref="SessionForwarder.CloseTimeout"/> has the connection aborted
    /// (Kestrel's drain timeout did that before the handoff), so a peer that stopped reading cannot hold it open.
    /// </summary>
    private async Task CloseAsync()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = _connection.ConnectionClosed.Register(static done => ((TaskCompletionSource)done!).TrySetResult(), closed);
        _connection.Transport.Input.Complete();
        _connection.Transport.Output.Complete();
        try
        {
            await closed.Task.WaitAsync(SessionForwarder.CloseTimeout);
        }
        catch (TimeoutException)
        {
            _connection.Abort(new ConnectionAbortedException("the browser did not take the end of its session in time"));
        }
    }

    void IConnectionHeartbeatFeature.OnHeartbeat(Action<object> action, object state)
    {
        // Kestrel's HTTP layer registers one heartbeat per connection (its timeouts); the connection's own list holds this
        // object instead, so that the HTTP layer can be collected once it is done.
        (_heartbeat, _heartbeatState) = (action, state);
        if (!_beating && _connection.Features.Get<IConnectionHeartbeatFeature>() is { } connection)
        {
            _beating = true;
            connection.OnHeartbeat(static handoff => ((UpgradeHandoff)handoff).Beat(), this);
        }
    }

    private void Beat()
    {
        if (_heartbeat is { } beat && _heartbeatState is { } state)
        {
            beat(state);
        }
    }

    /// <summary>A listener's upgraded connections, from the upgrade to the close; null max for no cap.</summary>
    private sealed class UpgradedConnections(long? max)
    {
        private long _count;

        public bool TryAdd()
        {
            if (Interlocked.Increment(ref _count) <= (max ?? long.MaxValue))
            {
                return true;
            }

            Interlocked.Decrement(ref _count);
            return false;
        }

        public void Remove() => Interlocked.Decrement(ref _count);
    }

    /// <summary>The connection as Kestrel's HTTP layer sees it.</summary>
    private sealed class HttpSide : ConnectionContext
    {
        private readonly UpgradeHandoff _owner;

        public HttpSide(UpgradeHandoff owner)
        {
            _owner = owner;
            Features = new FeatureCollection(owner._connection.Features);
            Features.Set<IConnectionHeartbeatFeature>(owner);
            Features.Set(owner);
            Transport = new HttpSidePipe(owner, owner._connection.Transport);
            owner._writer = (HttpSideWriter)Transport.Output;
        }

        private ConnectionContext Connection => _owner._connection;

        public override string ConnectionId
        {
            get => Connection.ConnectionId;
            set => Connection.ConnectionId = value;
        }

        public override IFeatureCollection Features { get; }

        public override IDictionary<object, object?> Items
        {
            get => Connection.Items;
            set => Connection.Items = value;
        }

        public override IDuplexPipe Transport { get; set; }

        public override CancellationToken ConnectionClosed
        {
            get => Connection.ConnectionClosed;
            set => Connection.ConnectionClosed = value;
        }

        public override EndPoint? LocalEndPoint
        {
            get => Connection.LocalEndPoint;
            set => Connection.LocalEndPoint = value;
        }

        public override EndPoint? RemoteEndPoint
        {
            get => Connection.RemoteEndPoint;
            set => Connection.RemoteEndPoint = value;
        }

        public override void Abort(ConnectionAbortedException abortReason)
        {
            if (!_owner.TakenOver)
            {
                Connection.Abort(abortReason);
            }
        }

        public override void Abort() => Abort(new ConnectionAbortedException("The connection was aborted by the application."));

        // Kestrel disposes the connection itself once the whole middleware chain has returned.
        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class HttpSidePipe(UpgradeHandoff owner, IDuplexPipe transport) : IDuplexPipe
    {
        public PipeReader Input { get; } = new HttpSideReader(owner, transport.Input);

        public PipeWriter Output { get; } = new HttpSideWriter(owner, transport.Output);
    }

    /// <summary>The transport's reader until the takeover; after it, a stream that has ended.</summary>
    private sealed class HttpSideReader(UpgradeHandoff owner, PipeReader reader) : PipeReader
    {
        private static readonly ReadResult Ended = new(ReadOnlySequence<byte>.Empty, isCanceled: false, isCompleted: true);

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            owner.TakenOver ? ValueTask.FromResult(Ended) : reader.ReadAsync(cancellationToken);

        public override bool TryRead(out ReadResult result)
        {
            if (owner.TakenOver)
            {
                result = Ended;
                return true;
            }

            return reader.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            if (!owner.TakenOver)
            {
                reader.AdvanceTo(consumed);
            }
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (!owner.TakenOver)
            {
                reader.AdvanceTo(consumed, examined);
            }
        }

        public override void CancelPendingRead()
        {
            if (!owner.TakenOver)
            {
                reader.CancelPendingRead();
            }
        }

        public override void Complete(Exception? exception = null)
        {
            if (!owner.TakenOver)
            {
                reader.Complete(exception);
            }
        }
    }

    /// <summary>
    /// The transport's writer until the takeover; after it, nothing the HTTP layer writes goes anywhere. Switched to
    /// direct sends, it keeps what the HTTP layer writes until its flush and sends it on the socket itself.
    /// </summary>
    private sealed class HttpSideWriter(UpgradeHandoff owner, PipeWriter writer) : PipeWriter
    {
        private static readonly FlushResult Ended = new(isCanceled: false, isCompleted: true);

        private byte[]? _discarded;
        private bool _written;
        private DirectSend? _direct;

        /// <summary>True while nothing has been written to the transport's pipe.</summary>
        public bool Pristine => !_written;

        /// <summary>From now on, what the HTTP layer writes goes on <paramref name="socket"/>, not into the pipe.</summary>
        public void SendDirect(Socket socket) => _direct = new DirectSend(socket, new ArrayBufferWriter<byte>(256));

        public override bool CanGetUnflushedBytes => _direct is not null || writer.CanGetUnflushedBytes;

        public override long UnflushedBytes => owner.TakenOver ? 0 : _direct?.Unsent.WrittenCount ?? writer.UnflushedBytes;

        public override void Advance(int bytes)
        {
            if (owner.TakenOver)
            {
                return;
            }

            if (_direct is { } direct)
            {
                direct.Unsent.Advance(bytes);
                return;
            }

            _written |= bytes > 0;
            writer.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) =>
            owner.TakenOver ? Discarded(sizeHint) : _direct?.Unsent.GetMemory(sizeHint) ?? writer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) =>
            owner.TakenOver ? Discarded(sizeHint) : _direct is { } direct ? direct.Unsent.GetSpan(sizeHint) : writer.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
            owner.TakenOver ? ValueTask.FromResult(Ended) : _direct is { } direct ? SendAsync(direct, cancellationToken) : writer.FlushAsync(cancellationToken);

        public override void CancelPendingFlush()
        {
            if (!owner.TakenOver)
            {
                writer.CancelPendingFlush();
            }
        }

        public override void Complete(Exception? exception = null)
        {
            // Completing the pipe also ends Kestrel's send loop, which shuts the socket: direct or not, that is the end.
            if (!owner.TakenOver)
            {
                writer.Complete(exception);
            }
        }

        private static async ValueTask<FlushResult> SendAsync(DirectSend direct, CancellationToken cancellationToken)
        {
            var unsent = direct.Unsent;
            try
            {
                await TransportStream.SendAsync(direct.Socket, unsent.WrittenMemory, cancellationToken);
                return default;
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                // As the pipe answers once the connection is gone: the HTTP layer stops writing.
                return Ended;
            }
            finally
            {
                unsent.ResetWrittenCount();
            }
        }

        private byte[] Discarded(int sizeHint) =>
            _discarded is { } buffer && buffer.Length >= sizeHint ? buffer : _discarded = new byte[Math.Max(sizeHint, 256)];

        /// <summary>The browser's socket and what the HTTP layer wrote since its last flush (the 101), kept to send.</summary>
        private sealed record DirectSend(Socket Socket, ArrayBufferWriter<byte> Unsent);
    }

}
