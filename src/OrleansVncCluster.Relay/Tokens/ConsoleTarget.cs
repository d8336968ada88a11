namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Where a console token leads: a TCP host and port, or a Unix socket on the node.</summary>
[GenerateSerializer, Immutable, Alias("vnc.ConsoleTarget")]
public sealed record ConsoleTarget
{
    /// <summary>Host name or IP address of the VNC server (IPv6 as written in the source, brackets kept).</summary>
    [Id(0)] public string Host { get; init; } = "";

    /// <summary>TCP port of the VNC server.</summary>
    [Id(1)] public int Port { get; init; }

    /// <summary>Path of a Unix socket to dial instead of Host:Port (websockify's <c>unix_socket:</c> targets).</summary>
    [Id(2)] public string? UnixSocket { get; init; }

    /// <summary>Creates a TCP target.</summary>
    public static ConsoleTarget Tcp(string host, int port) => new() { Host = host, Port = port };

    /// <summary>Creates a Unix socket target.</summary>
    public static ConsoleTarget Unix(string path) => new() { UnixSocket = path };

    /// <inheritdoc />
    public override string ToString() => UnixSocket is { } path ? $"unix_socket:{path}" : $"{Host}:{Port}";
}
