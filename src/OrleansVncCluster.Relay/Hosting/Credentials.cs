namespace OrleansVncCluster.Relay.Hosting;

/// <summary>
/// Secrets from systemd's credentials directory (LoadCredential=), so they never sit in environment variables or
/// command lines: a file named after the setting holds its value.
/// </summary>
internal static class Credentials
{
    private static readonly (string File, string Key)[] Known =
    [
        ("redis-connection", "Redis:ConnectionString"),
        ("admin-token", "Admin:Token"),
        ("abiquo-password", "Abiquo:Password"),
        ("ticket-secret", "Tickets:Secret"),
    ];

    public static Dictionary<string, string?> Read()
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") is not { Length: > 0 } directory)
        {
            return values;
        }

        foreach (var (file, key) in Known)
        {
            var path = Path.Combine(directory, file);
            if (File.Exists(path))
            {
                values[key] = File.ReadAllText(path).Trim();
            }
        }

        return values;
    }
}
