using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Token lookup and token-file settings (configuration section "Tokens").</summary>
public sealed class TokenOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Tokens";

    /// <summary>websockify token files or directories loaded into the grains and watched for changes.</summary>
    public List<string> Files { get; set; } = [];

    /// <summary>Files of <c>TOKEN: PASSWORD</c> lines: the VNC passwords of token-file consoles, with which the relay logs
    /// in for the user (Sources/TokenPasswordFile). Separate from <see cref="Files"/>, which stay websockify's format.</summary>
    public List<string> PasswordFiles { get; set; } = [];

    /// <summary>How long this node trusts a looked-up token before asking its grain again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an unknown token stays unknown on this node; short, so new tokens work almost at once.</summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deadline of the grain call; a dying silo would otherwise stall new sessions for the 30 s response timeout.</summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound of cached tokens per node (memory bound against floods of distinct tokens).</summary>
    public int CacheCapacity { get; set; } = 100_000;

    /// <summary>How often token files are checked for changes the file watcher may miss (network filesystems).</summary>
    public TimeSpan FilePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A changed token file is applied only when two reads this far apart give the same tokens.</summary>
    public TimeSpan FileSettleTime { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A file change removing more than this share of the file's tokens waits for a second identical read.</summary>
    public double FileMaxRemovalShare { get; set; } = 0.5;

    /// <summary>
    /// Whether a plain token (Abiquo's guessable md5 of "IP:PORT") opens a console; false leaves signed tickets only.
    /// </summary>
    public bool AcceptPlainTokens { get; set; } = true;
}

internal sealed class TokenOptionsValidator : IValidateOptions<TokenOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenOptions options)
    {
        var errors = new List<string>();
        foreach (var file in options.Files)
        {
            if (!File.Exists(file) && !Directory.Exists(file))
            {
                errors.Add($"Tokens:Files entry '{file}' is neither a file nor a directory (websockify's --target-config / --token-source)");
            }
        }

        foreach (var file in options.PasswordFiles)
        {
            if (!File.Exists(file))
            {
                errors.Add($"Tokens:PasswordFiles entry '{file}' does not exist: give a file of 'TOKEN: PASSWORD' lines, readable by the node only");
            }
        }

        if (options.CacheTtl < TimeSpan.Zero || options.NegativeCacheTtl < TimeSpan.Zero)
        {
            errors.Add("Tokens:CacheTtl and Tokens:NegativeCacheTtl must be zero (no cache) or positive, e.g. 00:00:05");
        }

        if (options.LookupTimeout <= TimeSpan.Zero)
        {
            errors.Add("Tokens:LookupTimeout must be positive, e.g. 00:00:02");
        }

        if (options.CacheCapacity < 1)
        {
            errors.Add("Tokens:CacheCapacity must be at least 1, e.g. 100000");
        }

        if (options.FileSettleTime < TimeSpan.Zero || options.FileSettleTime > TimeSpan.FromSeconds(30))
        {
            errors.Add("Tokens:FileSettleTime must be between 00:00:00 and 00:00:30, e.g. 00:00:00.500");
        }

        if (options.FileMaxRemovalShare is < 0 or > 1 || double.IsNaN(options.FileMaxRemovalShare))
        {
            errors.Add("Tokens:FileMaxRemovalShare must be between 0 and 1 (1 = never hold), e.g. 0.5");
        }

        if (options.FilePollInterval <= TimeSpan.Zero)
        {
            errors.Add("Tokens:FilePollInterval must be positive, e.g. 00:00:05");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
