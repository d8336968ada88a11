using System.Reflection;

namespace OrleansVncCluster.Relay.Cli;

/// <summary><c>vnc-relay --version</c>: the version the build was stamped with (<c>scripts/version.sh</c> via <c>make</c>).</summary>
public static class VersionCommand
{
    /// <summary>The informational version, e.g. <c>0.1.0-dev.130+g1a2b3c4d5e</c>; a build outside <c>make</c> says <c>0.0.0-local</c>.</summary>
    public static string Version { get; } =
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0-local";

    /// <summary>True for <c>--version</c> and <c>-V</c> alone.</summary>
    public static bool Matches(IReadOnlyList<string> args) => args is ["--version"] or ["-V"];

    /// <summary>The line printed: <c>vnc-relay VERSION</c>.</summary>
    public static string Line => $"vnc-relay {Version}";
}
