namespace OrleansVncCluster.Relay.Rfb;

/// <summary>How the relay logs in to VNC servers; bound from the <c>Targets</c> and <c>Vnc</c> sections by the host.</summary>
public sealed record RfbTargetLoginOptions
{
    /// <summary>PEM file of the CA certificates a VNC server's X.509 certificate must chain to (Targets:CaFile); null
    /// means the system trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate presented to VNC servers that ask for one (Targets:ClientCertificateFile).</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/> (Targets:ClientKeyFile).</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Refuse VNC servers that offer no TLS (Targets:RequireTls).</summary>
    public bool RequireTls { get; init; }

    /// <summary>The server certificate must name the target's address or its given name (Targets:VerifyName).</summary>
    public bool VerifyName { get; init; } = true;

    /// <summary>Ask for an exclusive console (ClientInit shared-flag 0, RFC 6143 section 7.3.1), which makes the server
    /// disconnect every other viewer (Vnc:Exclusive). The default shares, so a viewer never kicks the owner.</summary>
    public bool Exclusive { get; init; }

    /// <summary>The whole login, from the first byte to ServerInit, must end within this.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A longer desktop name in ServerInit is cut to this many bytes (it is shown in a browser tab title).</summary>
    public int MaxDesktopNameBytes { get; init; } = 4096;
}
