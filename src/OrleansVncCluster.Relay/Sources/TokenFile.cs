using System.Text.RegularExpressions;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// websockify's token file grammar (<c>--target-config</c>, <c>TokenFile</c> plugin), reproduced exactly so existing
/// files and the scripts that write them keep working: each line is stripped; blank lines and lines starting with
/// <c>#</c> are skipped; the rest is split with the regex <c>:\s</c> into exactly two parts, token and target; the
/// target is stripped and split at its LAST colon into host and port (so <c>tok: ::1:5900</c> is IPv6), or names a
/// Unix socket as <c>unix_socket:/path</c>. A directory means every regular file directly inside it; later
/// duplicates win.
/// </summary>
public static partial class TokenFile
{
    private const string UnixSocketPrefix = "unix_socket:";

    [GeneratedRegex(@":\s")]
    private static partial Regex Separator();

    /// <summary>Reads a token file, or every regular file directly inside a directory (in name order).</summary>
    public static TokenFileContent Load(string source)
    {
        var files = Directory.Exists(source)
            ? Directory.GetFiles(source).Order(StringComparer.Ordinal).ToArray()
            : [source];

        var tokens = new Dictionary<string, ConsoleTarget>(StringComparer.Ordinal);
        var errors = new List<TokenFileError>();
        foreach (var file in files)
        {
            Parse(file, File.ReadAllText(file), tokens, errors);
        }

        return new TokenFileContent(tokens, errors);
    }

    /// <summary>Parses the text of one token file into <paramref name="tokens"/>, recording bad lines in <paramref name="errors"/>.</summary>
    public static void Parse(string fileName, string text, IDictionary<string, ConsoleTarget> tokens, ICollection<TokenFileError> errors)
    {
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = Separator().Split(line);
            if (parts.Length != 2)
            {
                errors.Add(new TokenFileError(fileName, lineNumber, "expected 'TOKEN: HOST:PORT' (one colon followed by a space between token and target)"));
                continue;
            }

            if (TryParseTarget(parts[1].Trim(), out var target, out var problem))
            {
                tokens[parts[0]] = target;
            }
            else
            {
                errors.Add(new TokenFileError(fileName, lineNumber, problem));
            }
        }
    }

    /// <summary>Parses a websockify target: <c>HOST:PORT</c> split at the last colon, or <c>unix_socket:/path</c>.</summary>
    public static bool TryParseTarget(string text, out ConsoleTarget target, out string problem)
    {
        target = ConsoleTarget.Tcp("", 0);
        if (text.StartsWith(UnixSocketPrefix, StringComparison.Ordinal))
        {
            var path = text[UnixSocketPrefix.Length..];
            if (path.Length == 0)
            {
                problem = "unix_socket: needs a socket path";
                return false;
            }

            target = ConsoleTarget.Unix(path);
            problem = "";
            return true;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            problem = $"target '{text}' has no ':PORT'";
            return false;
        }

        if (!int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            problem = $"target '{text}' has no valid port (1-65535) after its last ':'";
            return false;
        }

        target = ConsoleTarget.Tcp(text[..colon], port);
        problem = "";
        return true;
    }
}
