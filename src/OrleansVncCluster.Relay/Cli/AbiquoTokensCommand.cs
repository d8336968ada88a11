using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Abiquo;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// <c>vnc-relay abiquo-tokens -a URL -u USER --password-file F -f /opt/websockify/config.vnc</c>: the drop-in replacement
/// of the legacy <c>novnc_tokens.rb</c> cron job for sites that still run websockify. It reads Abiquo like the sync does
/// and writes a websockify token file (<c>TOKEN: IP:PORT</c> lines) by atomic replace: a temporary file in the same
/// directory, flushed to disk, renamed over the target. On any failure the old file stays as it was and the exit code
/// is 1. Unlike the legacy job it never takes a password on the command line, and it holds a run that would remove
/// more than half of the file's tokens until the next run gives the same answer (state in <c>FILE.held</c>).
/// </summary>
public static class AbiquoTokensCommand
{
    /// <summary>The sub-command name (<c>args[0]</c>).</summary>
    public const string Name = "abiquo-tokens";

    /// <summary>Environment variable read for the password when no <c>--password-file</c> is given.</summary>
    public const string PasswordVariable = "Abiquo__Password";

    /// <summary>Runs the command with explicit streams and environment (tests); <paramref name="args"/> may start with <see cref="Name"/>.</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken) =>
        AdminCommandLine.RunAsync(args is [Name, ..] ? args : [Name, .. args], new CliEnvironment(stdout, stderr, environment), check: null, cancellationToken);

    /// <summary>The command's definition on the <c>vnc-relay</c> root.</summary>
    internal static System.CommandLine.Command Build(CliEnvironment environment)
    {
        var api = new Option<string?>("--api", "-a") { Description = "Abiquo API root, e.g. https://abiquo.example/api.", HelpName = "URL" };
        var user = new Option<string?>("--user", "-u") { Description = "A cloud administrator account.", HelpName = "USER" };
        var passwordFile = new Option<string?>("--password-file") { Description = $"File holding the password (else the environment variable {PasswordVariable}).", HelpName = "FILE" };
        var file = new Option<string?>("--file", "-f") { Description = "The websockify token file to replace, e.g. /opt/websockify/config.vnc.", HelpName = "TOKEN_FILE" };
        var apiVersion = new Option<string?>("--api-version") { Description = "Media type version to ask for (default: the server's newest).", HelpName = "V" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds per request (default 60).", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var caFile = new Option<string?>("--ca-file") { Description = "PEM file of the CA that signs the API's certificate.", HelpName = "FILE" };
        var insecure = new Option<bool>("--insecure") { Description = "Do not verify the API's certificate (labs only)." };
        var maxRemovalShare = new Option<double>("--max-removal-share")
        {
            Description = "Hold a run removing more than this share of the file's tokens (default 0.5).", HelpName = "X", DefaultValueFactory = _ => 0.5,
        };
        var force = new Option<bool>("--force") { Description = "Write even a run that would be held." };

        // Refused with a reason rather than "unknown option": the legacy cron job took the password this way.
        var password = new Option<string?>("--password", "-p") { Hidden = true };
        timeout.Validators.Add(result =>
        {
            // A value that is not a number already has its parse error; only a number can be out of range here.
            if (result.Tokens is [var token] && double.TryParse(token.Value, CultureInfo.InvariantCulture, out var seconds) && seconds <= 0)
            {
                result.AddError("--timeout must be a number of seconds above 0");
            }
        });

        var command = AdminCommandLine.Sub(Name,
            "Write a websockify token file (TOKEN: IP:PORT lines) from the Abiquo API by atomic replace: the drop-in replacement of the legacy novnc_tokens.rb cron job. " +
            "Exit code 0 when the file was written (or already held the same tokens), 1 otherwise; the old file is kept on any failure.");
        foreach (var option in (Option[])[api, user, passwordFile, file, apiVersion, timeout, caFile, insecure, maxRemovalShare, force, password])
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetResult(password) is { } given)
            {
                result.AddError($"{given.IdentifierToken?.Value ?? "--password"} is refused: a password on the command line is visible in ps to every user. " +
                    $"Use --password-file FILE or the environment variable {PasswordVariable}.");
                return;
            }

            var missing = new List<string>();
            if (result.GetValue(api) is null)
            {
                missing.Add("-a API_URL");
            }

            if (result.GetValue(user) is null)
            {
                missing.Add("-u USER");
            }

            if (result.GetValue(file) is null)
            {
                missing.Add("-f TOKEN_FILE");
            }

            if (result.GetValue(passwordFile) is null && string.IsNullOrEmpty(environment.Variables(PasswordVariable)))
            {
                missing.Add($"--password-file FILE (or the environment variable {PasswordVariable})");
            }

            if (missing.Count > 0)
            {
                result.AddError($"missing {string.Join(", ", missing)}");
            }
        });

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new AbiquoOptions
            {
                ApiUrl = parse.GetValue(api),
                User = parse.GetValue(user),
                PasswordFile = parse.GetValue(passwordFile),
                ApiVersion = parse.GetValue(apiVersion),
                CaFile = parse.GetValue(caFile),
                InsecureSkipTlsVerify = parse.GetValue(insecure),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                MaxRemovalShare = parse.GetValue(maxRemovalShare),
            };
            if (options.PasswordFile is null)
            {
                options.Password = environment.Variables(PasswordVariable);
            }

            var validation = new AbiquoOptionsValidator(() => []).Validate(null, options);
            if (validation.Failed)
            {
                await environment.Error.WriteLineAsync($"vnc-relay {Name}: {string.Join("; ", validation.Failures)}");
                return AdminCommandLine.Usage;
            }

            var run = new Command(options, Path.GetFullPath(parse.GetValue(file)!), parse.GetValue(force));
            try
            {
                var message = await run.RunAsync(cancellationToken);
                await environment.Out.WriteLineAsync($"{Name}: {message}");
                return AdminCommandLine.Ok;
            }
            catch (Exception exception) when (exception is AbiquoException or IOException or UnauthorizedAccessException or HeldException)
            {
                await environment.Error.WriteLineAsync($"{Name}: {exception.Message}; {run.File} left unchanged");
                return AdminCommandLine.Failed;
            }
        });
        return command;
    }

    private sealed class HeldException(string message) : Exception(message);

    private sealed class Command(AbiquoOptions options, string file, bool force)
    {
        public string File => file;

        private string HeldFile => file + ".held";

        public async Task<string> RunAsync(CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            using var http = new HttpClient(AbiquoHttp.CreateHandler(options)) { Timeout = Timeout.InfiniteTimeSpan };
            var client = new AbiquoClient(http, Options.Create(options), NullLogger<AbiquoClient>.Instance);
            var inventory = await client.GetVirtualMachinesAsync(cancellationToken);
            var set = AbiquoTokens.Build(inventory.VirtualMachines);
            var tokens = set.Tokens;

            var previous = ReadPrevious();
            var removed = previous.Count(token => !tokens.ContainsKey(token));
            var fingerprint = Fingerprint(tokens.Keys);
            if (!force && previous.Count > 0 && removed > options.MaxRemovalShare * previous.Count)
            {
                if (ReadHeld() != fingerprint)
                {
                    await System.IO.File.WriteAllTextAsync(HeldFile, fingerprint + "\n", cancellationToken);
                    throw new HeldException(
                        $"held: this run would remove {removed} of the {previous.Count} tokens in the file (more than {options.MaxRemovalShare:P0}); " +
                        "run again to apply it if Abiquo gives the same answer, or pass --force");
                }
            }

            await WriteAtomicallyAsync(tokens, cancellationToken);
            System.IO.File.Delete(HeldFile);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return string.Create(CultureInfo.InvariantCulture,
                $"wrote {tokens.Count} tokens ({inventory.VirtualMachines.Count} VMs of {inventory.Summary.Enterprises} enterprises, {removed} tokens removed) to {file} in {elapsed:0.0} s")
                + string.Concat(set.Contested.Select(c => $"\nno token for {c.Address}: VMs of different enterprises report it ({string.Join(", ", c.Vms)})"));
        }

        private HashSet<string> ReadPrevious()
        {
            if (!System.IO.File.Exists(file))
            {
                return [];
            }

            return [.. TokenFile.Load(file).Tokens.Keys];
        }

        private string? ReadHeld()
        {
            try
            {
                return System.IO.File.Exists(HeldFile) ? System.IO.File.ReadAllText(HeldFile).Trim() : null;
            }
            catch (IOException)
            {
                return null;
            }
        }

        private async Task WriteAtomicallyAsync(IReadOnlyDictionary<string, ConsoleTokenEntry> tokens, CancellationToken cancellationToken)
        {
            var directory = Path.GetDirectoryName(file) ?? ".";
            var temporary = Path.Combine(directory, $".{Path.GetFileName(file)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            try
            {
                var text = new StringBuilder(tokens.Count * 56);
                text.Append("# Written by vnc-relay abiquo-tokens from ").Append(options.ApiUrl).Append(" at ")
                    .Append(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
                foreach (var (token, entry) in tokens.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    text.Append(token).Append(": ").Append(entry.Target.Host).Append(':').Append(entry.Target.Port.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }

                await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
                    stream.Flush(flushToDisk: true);
                }

                if (!OperatingSystem.IsWindows() && System.IO.File.Exists(file))
                {
                    System.IO.File.SetUnixFileMode(temporary, System.IO.File.GetUnixFileMode(file));
                }

                System.IO.File.Move(temporary, file, overwrite: true);
            }
            catch
            {
                System.IO.File.Delete(temporary);
                throw;
            }
        }

        private static string Fingerprint(IEnumerable<string> tokens)
        {
            var joined = string.Join('\n', tokens.Order(StringComparer.Ordinal));
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)));
        }
    }
}
