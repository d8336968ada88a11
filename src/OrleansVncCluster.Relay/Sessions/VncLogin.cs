using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Rfb;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>
/// Decides whether the relay speaks RFB for a session and does the two handshakes: its own login to the VNC server
/// (Rfb/RfbTargetLogin: VNC authentication with the known password, VeNCrypt X.509 TLS) and the None handshake it
/// presents the browser (Rfb/RfbBrowserHandshake). One instance per node: it holds the loaded CA and client
/// certificates. The password goes only into the RFB layer, which never puts it into a reason.
/// </summary>
public sealed class VncLogin
{
    /// <summary>The browser's part of the handshake (noVNC answers at once) must end within this.</summary>
    public static readonly TimeSpan BrowserHandshakeTimeout = TimeSpan.FromSeconds(10);

    private readonly RfbTargetLogin _login;
    private readonly RfbTargetLogin _shared;
    private readonly RfbBrowserHandshake _browser;
    private readonly bool _loginAlways;

    /// <summary>Builds the login from Targets and Vnc (validated at start-up, so the certificate files load).</summary>
    public VncLogin(IOptions<TargetOptions> targets, IOptions<VncOptions> vnc, TimeProvider time)
    {
        _login = new RfbTargetLogin(targets.Value.ToLoginOptions(vnc.Value.Exclusive), time);
        _shared = vnc.Value.Exclusive ? new RfbTargetLogin(targets.Value.ToLoginOptions(exclusive: false), time) : _login;
        _browser = new RfbBrowserHandshake(BrowserHandshakeTimeout, time);
        _loginAlways = targets.Value.LoginAlways;
    }

    /// <summary>True when the relay logs in for this session: the password is known, TLS to the hypervisor is configured,
    /// or the session's messages must be parsed (a view session, a clipboard policy: only a relay that speaks RFB can
    /// filter them, <see cref="SessionPolicy"/>). Otherwise the session stays an opaque pipe and the browser negotiates
    /// security with the VNC server itself, as with websockify.</summary>
    public bool Applies(ConsoleTokenEntry entry, bool parsed) => entry.Password is not null || _loginAlways || parsed;

    /// <summary>Logs in to the VNC server over the dialled connection.</summary>
    public Task<RfbTargetLoginResult> LoginAsync(Stream target, ConsoleTokenEntry entry, CancellationToken cancellationToken) =>
        _login.LoginAsync(target, TargetOf(entry), cancellationToken);

    /// <summary>Logs in asking to share the console whatever Vnc:Exclusive says: for the relay's own looks at a screen
    /// (screenshots), which must never disconnect the people on it.</summary>
    public Task<RfbTargetLoginResult> LoginSharedAsync(Stream target, ConsoleTokenEntry entry, CancellationToken cancellationToken) =>
        _shared.LoginAsync(target, TargetOf(entry), cancellationToken);

    private static RfbTarget TargetOf(ConsoleTokenEntry entry) =>
        new(entry.Target.UnixSocket is null ? entry.Target.Host.Trim('[', ']') : "localhost", Password: entry.Password);

    /// <summary>Presents the browser security type None and the server's ServerInit.</summary>
    public Task<RfbBrowserHandshakeResult> GreetBrowserAsync(Stream browser, RfbServerInit serverInit, CancellationToken cancellationToken) =>
        _browser.RunAsync(browser, serverInit, cancellationToken);
}
