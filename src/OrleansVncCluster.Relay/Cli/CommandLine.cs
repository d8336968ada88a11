using System.Globalization;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// The websockify command line the legacy init scripts use, mapped onto native configuration, so
/// <c>websockify -D 41337 --target-config=/opt/websockify/config.vnc</c> becomes <c>vnc-relay -D 41337 --target-config=...</c>.
/// </summary>
public static class CommandLine
{
    /// <summary>Usage text.</summary>
    public const string Usage = """
        usage: vnc-relay [-D] [HOST:]PORT [--target-config=FILE | --token-plugin TokenFile --token-source FILE|DIR]
                         [--cert=FILE [--key=FILE]] [--heartbeat=SECONDS] [--web=DIR] [--config=FILE.json]
                         [--Section:Key=value ...]
               vnc-relay status | sessions | kill ID | revoke TOKEN | drain | undrain | sync [--now] | history | check
               vnc-relay abiquo-tokens -a API_URL -u USER --password-file FILE -f TOKEN_FILE
               vnc-relay --version
               (each sub-command has -h/--help)

        Everything else is native configuration: appsettings.json, a --config file, environment variables such as
        Relay__Listen=0.0.0.0:6080, Redis__ConnectionString=..., Tokens__Files__0=/path, or --Relay:IdleTimeout=00:30:00.
        """;

    private static readonly HashSet<string> TokenFilePlugins = new(StringComparer.Ordinal)
    {
        "TokenFile", "ReadOnlyTokenFile", "websockify.token_plugins.TokenFile", "websockify.token_plugins.ReadOnlyTokenFile",
    };

    /// <summary>Parses the arguments; never throws, errors come back in <see cref="CommandLineRequest.Error"/>.</summary>
    public static CommandLineRequest Parse(IReadOnlyList<string> args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var native = new List<string>();
        var tokenFiles = new List<string>();
        string? configFile = null;
        string? tokenPlugin = null;
        string? tokenSource = null;
        var daemonize = false;
        var positional = new List<string>();

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new CommandLineRequest { Help = true };
            }

            if (arg is "-D" or "--daemon")
            {
                daemonize = true;
                continue;
            }

            if (!arg.StartsWith('-'))
            {
                positional.Add(arg);
                continue;
            }

            var (name, value) = SplitOption(arg);
            if (name.Contains(':', StringComparison.Ordinal))
            {
                native.Add(arg);
                continue;
            }

            if (value is null && NeedsValue(name))
            {
                if (i + 1 >= args.Count)
                {
                    return Fail($"{name} needs a value");
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--target-config":
                    tokenFiles.Add(value!);
                    break;
                case "--token-plugin":
                    tokenPlugin = value;
                    break;
                case "--token-source":
                    tokenSource = value;
                    break;
                case "--cert":
                    settings["Relay:CertificateFile"] = value;
                    break;
                case "--key":
                    settings["Relay:KeyFile"] = value;
                    break;
                case "--web":
                    settings["Relay:WebRoot"] = value;
                    break;
                case "--config":
                    configFile = value;
                    break;
                case "--heartbeat":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                    {
                        return Fail($"--heartbeat '{value}' is not a whole number of seconds");
                    }

                    settings["Relay:KeepAliveInterval"] = TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture);
                    break;
                case "--ssl-only":
                    // TLS is on whenever --cert is given; plain requests then fail the TLS handshake, as with --ssl-only.
                    break;
                default:
                    return Fail($"unknown option {name}");
            }
        }

        if (tokenPlugin is not null || tokenSource is not null)
        {
            if (tokenPlugin is null || !TokenFilePlugins.Contains(tokenPlugin))
            {
                return Fail($"--token-plugin '{tokenPlugin}' is not supported: use TokenFile (or ReadOnlyTokenFile) with --token-source; Abiquo tokens come from the built-in sync (Abiquo:ApiUrl)");
            }

            if (tokenSource is null)
            {
                return Fail("--token-plugin TokenFile needs --token-source FILE|DIR");
            }

            tokenFiles.Add(tokenSource);
        }

        for (var index = 0; index < tokenFiles.Count; index++)
        {
            settings[$"Tokens:Files:{index}"] = tokenFiles[index];
        }

        switch (positional.Count)
        {
            case 0:
                break;
            case 1:
                settings["Relay:Listen"] = positional[0].Contains(':', StringComparison.Ordinal) ? positional[0] : $"0.0.0.0:{positional[0]}";
                break;
            default:
                return Fail($"unexpected argument '{positional[1]}': a fixed target is not supported, map tokens to targets with --target-config");
        }

        return new CommandLineRequest { Settings = settings, ConfigFile = configFile, NativeArgs = native, Daemonize = daemonize };
    }

    private static bool NeedsValue(string name) => name is not "--ssl-only";

    private static (string Name, string? Value) SplitOption(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (arg, null) : (arg[..equals], arg[(equals + 1)..]);
    }

    private static CommandLineRequest Fail(string error) => new() { Error = error };
}
