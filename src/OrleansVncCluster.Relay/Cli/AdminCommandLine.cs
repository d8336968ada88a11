using System.CommandLine;
using System.CommandLine.Help;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>Where a command writes and what environment it reads (the process's, or a test's).</summary>
public sealed record CliEnvironment(TextWriter Out, TextWriter Error, Func<string, string?> Variables)
{
    /// <summary>Standard input (<c>vnc-relay revoke -</c> reads the token from it).</summary>
    public TextReader In { get; init; } = Console.In;

    /// <summary>This process's streams and environment.</summary>
    public static CliEnvironment Process => new(Console.Out, Console.Error, Environment.GetEnvironmentVariable);
}

/// <summary>
/// <c>vnc-relay check</c>'s work: validate the configuration the node would start with and reach what it needs, writing
/// one line per check. It needs the whole node's composition (Hosting/), which this floor cannot see, so the entry point
/// passes it in.
/// </summary>
public delegate Task<int> ConfigurationCheck(CommandLineRequest node, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken);

/// <summary>
/// The sub-commands of <c>vnc-relay</c> (admin tasks and one-shot tools) on System.CommandLine, with one help and error
/// style: <c>-h/--help</c> on every command; exit code 0 on success, 1 when the work failed or the node could not be
/// reached (the URL is in the message), 2 for a usage error (the message on stderr says what to fix). The
/// websockify-compatible node command line (<see cref="CommandLine"/>) is not parsed here: its grammar (a bare port,
/// <c>--Section:Key=value</c>) is not System.CommandLine's, and init scripts depend on it as it is.
/// </summary>
public static class AdminCommandLine
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The work failed, or the node did not answer.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>The names of the sub-commands: a first argument that is one of them selects this parser.</summary>
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        "status", "sessions", "kill", "revoke", "drain", "undrain", "sync", "check", "history", AbiquoTokensCommand.Name,
    };

    /// <summary>True when <paramref name="args"/> are for this parser rather than the node's command line.</summary>
    public static bool Handles(IReadOnlyList<string> args) => VersionCommand.Matches(args) || (args.Count > 0 && Names.Contains(args[0]));

    /// <summary>Runs a sub-command in this process.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, ConfigurationCheck? check) =>
        RunAsync(args, CliEnvironment.Process, check, CancellationToken.None);

    /// <summary>Parses and runs <paramref name="args"/> (the sub-command's name first); returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliEnvironment environment, ConfigurationCheck? check, CancellationToken cancellationToken)
    {
        var root = Build(environment, check);
        var result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is not HelpAction)
        {
            var command = result.CommandResult.Command;
            var name = command == root ? "vnc-relay" : $"vnc-relay {command.Name}";
            foreach (var error in result.Errors)
            {
                await environment.Error.WriteLineAsync($"{name}: {error.Message}");
            }

            await environment.Error.WriteLineAsync($"see '{name} --help'");
            return Usage;
        }

        return await result.InvokeAsync(new InvocationConfiguration { Output = environment.Out, Error = environment.Error }, cancellationToken);
    }

    private static Command Build(CliEnvironment environment, ConfigurationCheck? check)
    {
        var version = new Option<bool>("--version", "-V") { Description = "Print the version and exit." };
        var root = new Command("vnc-relay", "Admin commands and tools of the vnc-relay node. Run the node itself with 'vnc-relay [options] [HOST:]PORT' (vnc-relay --help).")
        {
            new HelpOption(),
            version,
        };
        root.SetAction(async (parse, _) =>
        {
            if (parse.GetValue(version))
            {
                await environment.Out.WriteLineAsync(VersionCommand.Line);
                return Ok;
            }

            await environment.Error.WriteLineAsync("vnc-relay: name a command (see 'vnc-relay status --help', or 'vnc-relay --help' for the node)");
            return Usage;
        });

        root.Subcommands.Add(AdminCommands.Status(environment));
        root.Subcommands.Add(AdminCommands.Sessions(environment));
        root.Subcommands.Add(AdminCommands.Kill(environment));
        root.Subcommands.Add(AdminCommands.Revoke(environment));
        root.Subcommands.Add(AdminCommands.Drain(environment));
        root.Subcommands.Add(AdminCommands.Undrain(environment));
        root.Subcommands.Add(AdminCommands.Sync(environment));
        root.Subcommands.Add(HistoryCommand.Build(environment));
        root.Subcommands.Add(CheckCommand(environment, check));
        root.Subcommands.Add(AbiquoTokensCommand.Build(environment));
        return root;
    }

    /// <summary>A sub-command with the common <c>-h/--help</c>.</summary>
    internal static Command Sub(string name, string description) => new(name, description) { new HelpOption() };

    private static Command CheckCommand(CliEnvironment environment, ConfigurationCheck? check)
    {
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for Redis and for the Abiquo API (default 10).",
            DefaultValueFactory = _ => 10,
            HelpName = "SECONDS",
        };
        timeout.Validators.Add(result =>
        {
            // A value that is not a number already has its parse error; only a number can be out of range here.
            if (result.Tokens is [var token] && double.TryParse(token.Value, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is <= 0 or > 600)
            {
                result.AddError("--timeout must be between 0 and 600 seconds");
            }
        });
        var nodeArguments = new Argument<string[]>("node-arguments")
        {
            Description = "The node's own command line after '--', as the unit starts it (e.g. -- 6080 --target-config=/etc/vnc-relay/config.vnc).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = Sub("check",
            "Validate the configuration and secrets as the node would at start-up, and reach Redis and the Abiquo API, without starting a node. " +
            "One line per check (ok or FAIL); exit code 1 on any failure. Reads the same environment, appsettings.json and credentials as the node.");
        command.Options.Add(timeout);
        command.Arguments.Add(nodeArguments);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = CommandLine.Parse(parse.GetValue(nodeArguments) ?? []);
            if (request.Error is not null || request.Help)
            {
                await environment.Error.WriteLineAsync($"vnc-relay check: the node arguments after '--': {request.Error ?? "--help is not a node setting"}");
                return Usage;
            }

            if (check is null)
            {
                await environment.Error.WriteLineAsync("vnc-relay check: not available in this build");
                return Failed;
            }

            return await check(request, TimeSpan.FromSeconds(parse.GetValue(timeout)), environment.Out, cancellationToken);
        });
        return command;
    }
}
