using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Tells the node's own start-up rehearsal sessions (Node/StartupRehearsal) from everyone else's. A rehearsal session
/// runs the whole session path, so the JIT's promotions of that path happen before the node says it is ready, but it
/// is not a user's: it leaves no history record, no session counter, no recording, and spends no client's handshake
/// rate. It is recognised only while the rehearsal runs, only from loopback or the address the node dials itself at,
/// and only with this process's random secret.
/// </summary>
public sealed class SessionRehearsal
{
    /// <summary>The request header that carries the secret.</summary>
    public const string Header = "X-Vnc-Relay-Rehearsal";

    private readonly byte[] _secret = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
    private volatile bool _open;
    private IPAddress _peer = IPAddress.Loopback;

    /// <summary>The secret the rehearsal's client sends in <see cref="Header"/>.</summary>
    public string Secret => Encoding.ASCII.GetString(_secret);

    /// <summary>True while the rehearsal runs.</summary>
    public bool Open => _open;

    /// <summary>
    /// Opens the window in which rehearsal sessions are recognised; disposing closes it. <paramref name="peer"/> is the
    /// address the rehearsal connects to (its sessions come from it): loopback, or the relay listener's own address.
    /// </summary>
    public IDisposable Begin(IPAddress peer)
    {
        _peer = peer;
        _open = true;
        return new Window(this);
    }

    /// <summary>True for a rehearsal session: the window is open, the peer is the rehearsal's and the secret matches.</summary>
    public bool Recognizes(HttpContext context)
    {
        if (!_open || context.Connection.RemoteIpAddress is not { } peer || !(IPAddress.IsLoopback(peer) || peer.Equals(_peer)))
        {
            return false;
        }

        var presented = context.Request.Headers[Header].ToString();
        Span<byte> bytes = stackalloc byte[64];
        return presented.Length == _secret.Length
            && Encoding.ASCII.GetBytes(presented, bytes) == _secret.Length
            && CryptographicOperations.FixedTimeEquals(bytes[.._secret.Length], _secret);
    }

    private sealed class Window(SessionRehearsal rehearsal) : IDisposable
    {
        public void Dispose() => rehearsal._open = false;
    }
}
