using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>The relay's listener and per-session limits (configuration section "Relay").</summary>
public sealed class RelayOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Relay";

    /// <summary>Public listener: "PORT", "HOST:PORT", "[IPv6]:PORT" or "*:PORT".</summary>
    public string Listen { get; set; } = "0.0.0.0:6080";

    /// <summary>Admin listener (status, drain, sessions, metrics); empty to disable. Keep it on loopback or an internal network.</summary>
    public string AdminListen { get; set; } = "127.0.0.1:8082";

    /// <summary>HAProxy agent-check listener (answers ready/drain/maxconn); empty to disable.</summary>
    public string AgentListen { get; set; } = "0.0.0.0:8081";

    /// <summary>The WebSocket path; noVNC's default is "websockify".</summary>
    public string Path { get; set; } = "/websockify";

    /// <summary>PEM certificate for TLS on the public listener (websockify's --cert).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key (websockify's --key); may be omitted when the certificate file holds the key too.</summary>
    public string? KeyFile { get; set; }

    /// <summary>How often the certificate files are checked for changes besides file-change notifications.</summary>
    public TimeSpan CertificateCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Extra static web root (websockify's --web), served on the public listener.</summary>
    public string? WebRoot { get; set; }

    /// <summary>Largest WebSocket message accepted from a client; larger ones close the session with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>WebSocket ping interval; below every load balancer's idle limit (nginx and HAProxy default to 60 s or less).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Close a session after this long without data either way; zero disables (the default, like websockify).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>How long a client may take to send its request headers; stops half-open requests holding sockets.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long dialling the VNC server may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On SIGTERM or drain, how long live sessions may continue before they are closed with 1012.</summary>
    public TimeSpan DrainBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Socket completions run on the thread that saw them (no thread-pool hand-off per message); read before the node
    /// opens its first socket by <c>Hosting.InlineIo</c>, listed here so it is documented with the others.
    /// </summary>
    public bool InlineIo { get; set; } = true;

    /// <summary>
    /// The VNC server's bytes go to the browser framed in the buffer they were read into, instead of being copied into the
    /// WebSocket's send buffer first (<see cref="BrowserFrameStream"/>): one copy of each frame less in the heavy direction.
    /// </summary>
    public bool InPlaceFrames { get; set; } = true;

    /// <summary>
    /// A console session outlives Kestrel's HTTP layer on its connection (<see cref="UpgradeHandoff"/>): once the 101 is
    /// written, the request returns and the session runs on the connection's transport, so that Kestrel's objects for the
    /// HTTP request (about 6 KB) are not held for the console's life. <c>false</c> keeps the session inside its request.
    /// </summary>
    public bool UpgradeHandoff { get; set; } = true;

    /// <summary>
    /// A handed-off session on a listener without TLS writes to the browser's socket itself (<see cref="UpgradeHandoff"/>)
    /// instead of through Kestrel's output pipe, which copies every frame once more and sends it from another thread.
    /// Kestrel still reads the socket. <c>false</c> writes through the pipe.
    /// </summary>
    public bool DirectSends { get; set; } = true;

    /// <summary>
    /// A session's VNC socket is put on the socket thread of its browser socket (<see cref="Sessions.SocketAffinity"/>),
    /// so that both directions of a console run on one thread rather than crossing between cores with every message
    /// answered. <c>false</c> leaves each socket where the runtime deals it.
    /// </summary>
    public bool SocketAffinity { get; set; } = true;

    /// <summary>
    /// The longest the node rehearses before <c>/readyz</c> says ready (Node/StartupRehearsal), zero for no rehearsal:
    /// sessions through its own relay listener to a loopback RFB server of its own, until the JIT has gone quiet under
    /// them, so its recompilation of the session path is not paid by the first users (docs/benchmarks.md, the cold node).
    /// They leave no history record and no counter.
    /// </summary>
    public TimeSpan StartupRehearsal { get; set; }

    /// <summary>Proxies (CIDR) whose X-Forwarded-For is believed for the client address in logs.</summary>
    public List<string> TrustedProxies { get; set; } = ["127.0.0.0/8", "::1/128"];

    /// <summary>
    /// Proxies by DNS name whose X-Forwarded-For is believed, re-resolved every few seconds: for proxies without fixed
    /// addresses, such as HAProxy pods behind a headless Service (every ready pod's address is one A record).
    /// </summary>
    public List<string> TrustedProxyHosts { get; set; } = [];

    /// <summary>
    /// One relay buffer, each direction: a VNC read becomes one binary frame of up to this size (as websockify sends
    /// them), and a browser frame of this size is written to the VNC server in one write. 16 KiB browser reads split
    /// each 64 KiB frame into 4 writes and cost 0.6x socat's echo throughput (docs/benchmarks.md).
    /// </summary>
    internal const int BufferBytes = 64 * 1024;
}

/// <summary>Start-up validation of <see cref="RelayOptions"/> with messages that say what to fix.</summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var errors = new List<string>();
        if (!ListenAddress.TryParse(options.Listen, out _, out var listenError))
        {
            errors.Add($"Relay:Listen {listenError}");
        }

        if (!string.IsNullOrWhiteSpace(options.AdminListen) && !ListenAddress.TryParse(options.AdminListen, out _, out var adminError))
        {
            errors.Add($"Relay:AdminListen {adminError}");
        }

        if (!string.IsNullOrWhiteSpace(options.AgentListen) && !ListenAddress.TryParse(options.AgentListen, out _, out var agentError))
        {
            errors.Add($"Relay:AgentListen {agentError}");
        }

        if (!options.Path.StartsWith('/'))
        {
            errors.Add($"Relay:Path '{options.Path}' must start with '/', e.g. /websockify");
        }

        if (options.CertificateFile is { Length: > 0 } cert && !File.Exists(cert))
        {
            errors.Add($"Relay:CertificateFile '{cert}' does not exist (websockify's --cert)");
        }

        if (options.KeyFile is { Length: > 0 } key && !File.Exists(key))
        {
            errors.Add($"Relay:KeyFile '{key}' does not exist (websockify's --key)");
        }

        if (options.KeyFile is { Length: > 0 } && options.CertificateFile is not { Length: > 0 })
        {
            errors.Add("Relay:KeyFile is set without Relay:CertificateFile; give both (--cert and --key)");
        }

        if (options.WebRoot is { Length: > 0 } web && !Directory.Exists(web))
        {
            errors.Add($"Relay:WebRoot '{web}' is not a directory (websockify's --web)");
        }

        if (options.MaxMessageBytes < 1024)
        {
            errors.Add($"Relay:MaxMessageBytes {options.MaxMessageBytes} is too small; RFB clients need at least 1024 (default 1048576)");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero || options.KeepAliveInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Relay:KeepAliveInterval {options.KeepAliveInterval} must be between 00:00:00 (off) and 00:10:00; keep it below the load balancer's idle timeout");
        }

        if (options.IdleTimeout < TimeSpan.Zero)
        {
            errors.Add("Relay:IdleTimeout must be zero (off) or positive, e.g. 00:30:00");
        }

        if (options.HandshakeTimeout <= TimeSpan.Zero || options.ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add("Relay:HandshakeTimeout and Relay:ConnectTimeout must be positive, e.g. 00:00:10");
        }

        if (options.StartupRehearsal < TimeSpan.Zero || options.StartupRehearsal > TimeSpan.FromMinutes(5))
        {
            errors.Add($"Relay:StartupRehearsal {options.StartupRehearsal} must be between 00:00:00 (none) and 00:05:00, e.g. 00:00:30");
        }

        if (options.CertificateCheckInterval <= TimeSpan.Zero)
        {
            errors.Add("Relay:CertificateCheckInterval must be positive, e.g. 00:01:00");
        }

        if (options.DrainBudget < TimeSpan.Zero)
        {
            errors.Add("Relay:DrainBudget must be zero or positive, e.g. 00:00:30");
        }

        foreach (var proxy in options.TrustedProxies)
        {
            if (!System.Net.IPNetwork.TryParse(proxy, out _))
            {
                errors.Add($"Relay:TrustedProxies entry '{proxy}' is not a CIDR network, e.g. 10.0.0.0/8 or 127.0.0.1/32");
            }
        }

        foreach (var host in options.TrustedProxyHosts)
        {
            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            {
                errors.Add($"Relay:TrustedProxyHosts entry '{host}' is not a host name, e.g. haproxy-pods (a headless Service) or haproxy.example.com");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
