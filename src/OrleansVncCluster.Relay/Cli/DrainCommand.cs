using System.Net.Http.Headers;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>
/// <c>vnc-relay drain</c>: asks the node on this host to drain (POST /api/drain on its admin listener). It exists for
/// Kubernetes' preStop hook and for operators' scripts: an HTTP preStop hook cannot send the admin bearer token, and
/// the token must never sit on a command line, so the command reads it from the same places the node does
/// (<c>Admin__TokenFile</c>, systemd's or the Secret's credentials directory, <c>Admin__Token</c>).
/// </summary>
public static class DrainCommand
{
    /// <summary>The sub-command name (<c>args[0]</c>).</summary>
    public const string Name = "drain";

    private const string Usage = """
        usage: vnc-relay drain [--admin HOST:PORT] [--token-file FILE]
          --admin HOST:PORT   the node's admin listener (default: Relay__AdminListen, else 127.0.0.1:8082;
                              a wildcard address means this host's loopback)
          --token-file FILE   file holding the admin token (default: Admin__TokenFile, else
                              $CREDENTIALS_DIRECTORY/admin-token, else the environment variable Admin__Token)
        The node stops taking sessions at once (its /readyz turns 503, its HAProxy agent says "drain"); live sessions go
        on until they end or the drain budget closes them with 1012. Exit code 0 when the node accepted the drain.
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

        if (!TryParse(arguments, environment, out var adminUri, out var token, out var problem))
        {
            await stderr.WriteLineAsync($"{Name}: {problem}");
            return 1;
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(adminUri, "/api/drain"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                await stdout.WriteLineAsync($"{Name}: {adminUri} is draining: {body}");
                return 0;
            }

            await stderr.WriteLineAsync($"{Name}: {adminUri} answered {(int)response.StatusCode}: {body}");
            return 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await stderr.WriteLineAsync($"{Name}: no answer from the admin listener at {adminUri}: {exception.Message}");
            return 1;
        }
    }

    internal static bool TryParse(IReadOnlyList<string> arguments, Func<string, string?> environment, out Uri adminUri, out string token, out string problem)
    {
        adminUri = null!;
        token = "";
        var admin = environment("Relay__AdminListen") is { Length: > 0 } configured ? configured : "127.0.0.1:8082";
        var tokenFile = environment("Admin__TokenFile");
        for (var i = 0; i < arguments.Count; i++)
        {
            var value = i + 1 < arguments.Count ? arguments[i + 1] : null;
            switch (arguments[i])
            {
                case "--admin" when value is not null:
                    admin = value;
                    i++;
                    break;
                case "--token-file" when value is not null:
                    tokenFile = value;
                    i++;
                    break;
                default:
                    problem = $"unknown or incomplete argument '{arguments[i]}' (see --help)";
                    return false;
            }
        }

        if (!ListenAddress.TryParse(admin, out var endpoint, out var error))
        {
            problem = $"--admin '{admin}': {error}";
            return false;
        }

        // The node listens on a wildcard in containers; the hook runs in the same network namespace.
        var host = endpoint.Address.Equals(System.Net.IPAddress.Any) || endpoint.Address.Equals(System.Net.IPAddress.IPv6Any)
            ? "127.0.0.1"
            : endpoint.Address.ToString();
        adminUri = new UriBuilder("http", host, endpoint.Port).Uri;

        if (string.IsNullOrEmpty(tokenFile) && environment("CREDENTIALS_DIRECTORY") is { Length: > 0 } credentials)
        {
            var candidate = Path.Combine(credentials, "admin-token");
            tokenFile = File.Exists(candidate) ? candidate : null;
        }

        if (!string.IsNullOrEmpty(tokenFile))
        {
            if (!File.Exists(tokenFile))
            {
                problem = $"admin token file {tokenFile} does not exist";
                return false;
            }

            token = File.ReadAllText(tokenFile).Trim();
        }
        else
        {
            token = environment("Admin__Token")?.Trim() ?? "";
        }

        if (token.Length == 0)
        {
            problem = "no admin token: give --token-file, Admin__TokenFile, the admin-token credential or Admin__Token";
            return false;
        }

        problem = "";
        return true;
    }
}
