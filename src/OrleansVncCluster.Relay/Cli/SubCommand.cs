namespace OrleansVncCluster.Relay.Cli;

/// <summary>What every one-shot sub-command (<c>vnc-relay NAME ...</c>) does before its own work.</summary>
internal static class SubCommand
{
    /// <summary>
    /// The arguments after the command's name (callers may pass it or not), or null when help was asked for and
    /// <paramref name="usage"/> has been printed.
    /// </summary>
    public static async Task<List<string>?> ArgumentsAsync(IReadOnlyList<string> args, string name, string usage, TextWriter stdout)
    {
        var arguments = args.Count > 0 && args[0] == name ? args.Skip(1).ToList() : [.. args];
        if (arguments.Any(a => a is "-h" or "--help"))
        {
            await stdout.WriteLineAsync(usage);
            return null;
        }

        return arguments;
    }
}
