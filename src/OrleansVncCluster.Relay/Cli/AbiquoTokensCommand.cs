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

    private const string Usage = """
        usage: vnc-relay abiquo-tokens -a API_URL -u USER --password-file FILE -f TOKEN_FILE [options]
          -a, --api URL             Abiquo API root, e.g. https://abiquo.example/api
          -u, --user USER           a cloud administrator account
              --password-file FILE  file holding the password (else the environment variable Abiquo__Password)
          -f, --file TOKEN_FILE     websockify token file to replace, e.g. /opt/websockify/config.vnc
              --api-version V       media type version to ask for (default: the server's newest)
              --timeout SECONDS     per request (default 60)
              --ca-file FILE        PEM file of the CA that signs the API's certificate
              --insecure            do not verify the API's certificate (labs only)
              --max-removal-share X hold a run removing more than this share of the file's tokens (default 0.5)
              --force               write even a run that would be held
        Exit code 0 when the file was written (or already held the same tokens), 1 otherwise; the old file is kept on any failure.
        """;

    /// <summary>Runs the command; <paramref name="args"/> may start with <see cref="Name"/>.</summary>
    public static Task<int> RunAsync(string[] args) =>
        RunAsync(args, System.Console.Out, System.Console.Error, Environment.GetEnvironmentVariable, CancellationToken.None);

    /// <summary>Runs the command with explicit streams and environment (tests).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        if (await SubCommand.ArgumentsAsync(args, Name, Usage, stdout) is not { } arguments)
        {
            return 0;
        }

        if (Parse(arguments, environment, out var problem) is not { } command)
        {
            await stderr.WriteLineAsync($"{Name}: {problem}");
            return 1;
        }

        try
        {
            var message = await command.RunAsync(cancellationToken);
            await stdout.WriteLineAsync($"{Name}: {message}");
            return 0;
        }
        catch (Exception exception) when (exception is AbiquoException or IOException or UnauthorizedAccessException or HeldException)
        {
            await stderr.WriteLineAsync($"{Name}: {exception.Message}; {command.File} left unchanged");
            return 1;
        }
    }

    private static Command? Parse(IReadOnlyList<string> args, Func<string, string?> environment, out string problem)
    {
        var options = new AbiquoOptions { Timeout = TimeSpan.FromSeconds(60) };
        string? file = null;
        var force = false;
        problem = "";
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string? Value()
            {
                return i + 1 < args.Count ? args[++i] : null;
            }

            switch (name)
            {
                case "-p" or "--password":
                    problem = $"{name} is refused: a password on the command line is visible in ps to every user. Use --password-file FILE or the environment variable {PasswordVariable}.";
                    return null;
                case "--insecure":
                    options.InsecureSkipTlsVerify = true;
                    continue;
                case "--force":
                    force = true;
                    continue;
            }

            if (Value() is not { } value)
            {
                problem = name.StartsWith('-') ? $"{name} needs a value\n{Usage}" : $"unexpected argument '{name}'\n{Usage}";
                return null;
            }

            switch (name)
            {
                case "-a" or "--api": options.ApiUrl = value; break;
                case "-u" or "--user": options.User = value; break;
                case "--password-file": options.PasswordFile = value; break;
                case "-f" or "--file": file = value; break;
                case "--api-version": options.ApiVersion = value; break;
                case "--ca-file": options.CaFile = value; break;
                case "--timeout" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    options.Timeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--max-removal-share" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var share):
                    options.MaxRemovalShare = share;
                    break;
                default:
                    problem = $"unknown option or bad value: {name} {value}\n{Usage}";
                    return null;
            }
        }

        var missing = new List<string>();
        if (options.ApiUrl is null)
        {
            missing.Add("-a API_URL");
        }

        if (options.User is null)
        {
            missing.Add("-u USER");
        }

        if (file is null)
        {
            missing.Add("-f TOKEN_FILE");
        }

        if (options.PasswordFile is null)
        {
            options.Password = environment(PasswordVariable);
            if (string.IsNullOrEmpty(options.Password))
            {
                missing.Add($"--password-file FILE (or the environment variable {PasswordVariable})");
            }
        }

        if (missing.Count > 0)
        {
            problem = $"missing {string.Join(", ", missing)}\n{Usage}";
            return null;
        }

        var validation = new AbiquoOptionsValidator(() => []).Validate(null, options);
        if (validation.Failed)
        {
            problem = string.Join("; ", validation.Failures);
            return null;
        }

        return new Command(options, Path.GetFullPath(file!), force);
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
                $"wrote {tokens.Count} tokens ({inventory.VirtualMachines.Count} VMs of {inventory.Enterprises} enterprises, {removed} tokens removed) to {file} in {elapsed:0.0} s")
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
