using System.Text;

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

/// <summary>Who the console belongs to, as far as the token's source knows.</summary>
[GenerateSerializer, Immutable, Alias("vnc.VmIdentity")]
public sealed record VmIdentity
{
    /// <summary>The VM's id at its source (Abiquo's numeric id as text).</summary>
    [Id(0)] public string? Id { get; init; }

    /// <summary>The VM's internal name (Abiquo: ABQ_uuid).</summary>
    [Id(1)] public string? Name { get; init; }

    /// <summary>The name users see.</summary>
    [Id(2)] public string? Label { get; init; }

    /// <summary>The tenant that owns the VM.</summary>
    [Id(3)] public string? Enterprise { get; init; }

    /// <summary>The hypervisor that runs it.</summary>
    [Id(4)] public string? Hypervisor { get; init; }
}

/// <summary>One console token: its target, the VM behind it, and where it came from.</summary>
/// <remarks>The VNC password is held so an embedding page can be given it by an authenticated caller; it is
/// redacted from <see cref="ToString"/> so that logging a token entry can never print it.</remarks>
[GenerateSerializer, Immutable, Alias("vnc.ConsoleTokenEntry")]
public sealed record ConsoleTokenEntry
{
    /// <summary>Where the relay connects.</summary>
    [Id(0)] public required ConsoleTarget Target { get; init; }

    /// <summary>The VM behind the console, when the source knows it.</summary>
    [Id(1)] public VmIdentity? Vm { get; init; }

    /// <summary>The VNC password, when the source provides one. Never logged, never returned by a public endpoint.</summary>
    [Id(2)] public string? Password { get; init; }

    /// <summary>The source that wrote the token ("abiquo", "file:/path", "admin").</summary>
    [Id(3)] public required string Source { get; init; }

    /// <summary>When the token was last written.</summary>
    [Id(4)] public DateTimeOffset SetAt { get; init; }

    /// <summary>True when <paramref name="other"/> describes the same console, ignoring when it was written.</summary>
    public bool SameContentAs(ConsoleTokenEntry? other) =>
        other is not null && Target == other.Target && Vm == other.Vm && Password == other.Password && Source == other.Source;

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Target = ").Append(Target).Append(", Vm = ").Append(Vm)
            .Append(", Password = ").Append(Password is null ? "(none)" : "***")
            .Append(", Source = ").Append(Source).Append(", SetAt = ").Append(SetAt.ToString("O"));
        return true;
    }
}
