namespace OrleansVncCluster.Relay.Cli;

/// <summary>What the command line asked for.</summary>
public sealed record CommandLineRequest
{
    /// <summary>Configuration keys set by websockify-style options (highest precedence).</summary>
    public Dictionary<string, string?> Settings { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A JSON configuration file given with --config.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Native "--Section:Key=value" arguments, passed to ASP.NET configuration as they are.</summary>
    public List<string> NativeArgs { get; init; } = [];

    /// <summary>websockify's -D: detach and run in the background.</summary>
    public bool Daemonize { get; init; }

    /// <summary>--help was asked for.</summary>
    public bool Help { get; init; }

    /// <summary>What is wrong with the command line, if anything.</summary>
    public string? Error { get; init; }
}
