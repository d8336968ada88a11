using System.Globalization;
using System.Text;

namespace OrleansVncCluster.Benchmarks.Targets;

/// <summary>websockify token files ("TOKEN: HOST:PORT" per line) naming the bench targets.</summary>
internal static class TokenFiles
{
    /// <summary>The last line of a large file: once it resolves, a node has loaded the whole file.</summary>
    public const string ProbeToken = "bench-probe-last";

    /// <summary>A token of the large file that no workload uses before the token-miss run.</summary>
    public static string Fresh(int index) => "bench-t" + index.ToString("D6", CultureInfo.InvariantCulture);

    public static string Write(string path, IReadOnlyDictionary<string, int> ports, int extraTokens = 0)
    {
        var text = new StringBuilder();
        text.Append("# vnc-bench targets; extra tokens all lead to the banner target\n");
        foreach (var (token, port) in ports)
        {
            text.Append(CultureInfo.InvariantCulture, $"{token}: 127.0.0.1:{port}\n");
        }

        var banner = ports[TargetNames.Banner];
        for (var i = 0; i < extraTokens; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Fresh(i)}: 127.0.0.1:{banner}\n");
        }

        if (extraTokens > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{ProbeToken}: 127.0.0.1:{banner}\n");
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>A Tokens:PasswordFiles file: "TOKEN: PASSWORD" for each of <paramref name="tokens"/>.</summary>
    public static string WritePasswords(string path, IEnumerable<string> tokens, string password)
    {
        var text = new StringBuilder("# vnc-bench: the VNC password of each relay-side login token\n");
        foreach (var token in tokens)
        {
            text.Append(CultureInfo.InvariantCulture, $"{token}: {password}\n");
        }

        File.WriteAllText(path, text.ToString());
        return path;
    }
}
