namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Where secrets may come from: files (…File settings), systemd's credentials directory, or the environment; never the
/// command line, which every local user reads in <c>ps</c> and /proc/PID/cmdline. And no secret may still be the
/// placeholder of a shipped example (k8s/secrets.example.yaml, deploy/env/*.example): such a value would work for
/// anyone who read the example.
/// </summary>
public static class SecretSources
{
    /// <summary>The prefix every placeholder in the shipped examples starts with.</summary>
    public const string PlaceholderPrefix = "REPLACE-ME";

    /// <summary>Settings whose values are secrets.</summary>
    internal static readonly string[] SecretKeys = ["Admin:Token", "Abiquo:Password", "Tickets:Secret", "Tickets:PreviousSecret"];

    /// <summary>Problems with secrets given on the command line, each saying where to put the secret instead.</summary>
    public static IReadOnlyList<string> CommandLineProblems(IEnumerable<string> nativeArgs)
    {
        var problems = new List<string>();
        foreach (var arg in nativeArgs)
        {
            var text = arg.TrimStart('-', '/');
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            var key = (equals < 0 ? text : text[..equals]).Replace("__", ":", StringComparison.Ordinal);
            var value = equals < 0 ? "" : text[(equals + 1)..];
            if (SecretKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"--{key} is a secret and may not be given on the command line (ps shows it to every user): use {key}File, "
                    + "the credentials directory (systemd LoadCredential=) or the environment");
            }
            else if (key.Equals("Redis:ConnectionString", StringComparison.OrdinalIgnoreCase) && HasPassword(value))
            {
                problems.Add("--Redis:ConnectionString carries a password and may not be given on the command line: use Redis:ConnectionStringFile "
                    + "or the redis-connection credential");
            }
        }

        return problems;
    }

    /// <summary>Secrets that still hold a shipped example's placeholder, by setting name (values are never quoted).</summary>
    public static IReadOnlyList<string> PlaceholderProblems(IConfiguration configuration, string? redisConnectionString, params (string Key, string? Value)[] resolved)
    {
        var problems = new List<string>();
        var values = SecretKeys.Select(key => (Key: key, Value: configuration[key])).Concat(resolved);
        if (redisConnectionString is not null)
        {
            values = values.Append(("Redis:ConnectionString", redisConnectionString)).Append(("Redis password", RedisPassword(redisConnectionString)));
        }

        foreach (var (key, value) in values)
        {
            if (value is { } secret && secret.Trim().StartsWith(PlaceholderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{key} is still the example's {PlaceholderPrefix} placeholder: generate a secret, e.g. openssl rand -base64 32");
            }
        }

        return problems;
    }

    private static bool HasPassword(string connectionString) => !string.IsNullOrEmpty(RedisPassword(connectionString));

    private static string? RedisPassword(string connectionString)
    {
        try
        {
            return StackExchange.Redis.ConfigurationOptions.Parse(connectionString, ignoreUnknown: true).Password;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
