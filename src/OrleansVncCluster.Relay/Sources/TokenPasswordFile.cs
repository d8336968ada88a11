namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// The VNC passwords of token-file consoles: one <c>TOKEN: PASSWORD</c> line per console (blank lines and lines
/// starting with # are ignored). Kept apart from the websockify token files, whose grammar has no room for a password
/// and which other tools read (Tokens:PasswordFiles, docs/CONFIGURATION.md). A line's problem is reported with its file
/// and line number, never with its text, which would be a password.
/// </summary>
internal static class TokenPasswordFile
{
    /// <summary>Reads every file; a later file's line for the same token wins.</summary>
    public static (IReadOnlyDictionary<string, string> Passwords, IReadOnlyList<TokenFileError> Errors) Load(IEnumerable<string> paths)
    {
        var passwords = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new List<TokenFileError>();
        foreach (var path in paths)
        {
            var number = 0;
            foreach (var raw in File.ReadLines(path))
            {
                number++;
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var token = colon > 0 ? line[..colon].Trim() : "";
                var password = colon > 0 ? line[(colon + 1)..].Trim() : "";
                if (token.Length == 0 || password.Length == 0)
                {
                    errors.Add(new TokenFileError(path, number, "not a 'TOKEN: PASSWORD' line"));
                    continue;
                }

                passwords[token] = password;
            }
        }

        return (passwords, errors);
    }
}
