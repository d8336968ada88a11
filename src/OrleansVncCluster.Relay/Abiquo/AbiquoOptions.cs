using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// The Abiquo API the token sync reads (configuration section <c>Abiquo</c>; environment form <c>Abiquo__ApiUrl</c>).
/// The password comes from <see cref="PasswordFile"/> (re-read on every sync, so it can be rotated) or from
/// <see cref="Password"/> set through the environment; never from the command line, where <c>ps</c> shows it.
/// </summary>
public sealed class AbiquoOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Abiquo";

    /// <summary>The API root, e.g. <c>https://abiquo.example/api</c>.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>A cloud administrator account (it must see every enterprise).</summary>
    public string? User { get; set; }

    /// <summary>The account's password. Prefer <see cref="PasswordFile"/>.</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the password (trailing newlines ignored).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The media type version to ask for (<c>; version=3.10</c>); empty: the server's newest.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Old key of Sync:Interval (time between two syncs), still read when Sync:Interval is not set.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for one API request, body included.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A sync that would remove more than this share of the tokens it wrote last time is held until confirmed.</summary>
    public double MaxRemovalShare { get; set; } = 0.5;

    /// <summary>PEM (or DER) file of the CA certificates that sign the API's certificate, when it is not publicly trusted.</summary>
    public string? CaFile { get; set; }

    /// <summary>Accepts any server certificate. Only for labs: anyone on the path can then read the admin password.</summary>
    public bool InsecureSkipTlsVerify { get; set; }

    /// <summary>
    /// Follows links that name another scheme, host or port than <see cref="ApiUrl"/> (an Abiquo whose public API location
    /// is an internal or plain-http address) on <see cref="ApiUrl"/>'s scheme, host and port instead. Off: such a link is
    /// an error, because the credentials are sent only to <see cref="ApiUrl"/>.
    /// </summary>
    public bool RewriteLinks { get; set; }

    /// <summary>Old key of Sync:KeeperInterval (how often every node makes sure the sync grain runs), still read when Sync:KeeperInterval is not set.</summary>
    public TimeSpan KeeperInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The password, read from <see cref="PasswordFile"/> when one is set.</summary>
    /// <exception cref="IOException">The password file cannot be read.</exception>
    public string ResolvePassword() =>
        PasswordFile is { Length: > 0 } file ? File.ReadAllText(file).TrimEnd('\r', '\n') : Password ?? "";

    /// <summary>Everything but the password, so logging the options is safe.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ApiUrl={ApiUrl}, User={User}, Password={(string.IsNullOrEmpty(Password) ? "(none)" : "***")}, PasswordFile={PasswordFile ?? "(none)"}, " +
        $"ApiVersion={(string.IsNullOrEmpty(ApiVersion) ? "(newest)" : ApiVersion)}, SyncInterval={SyncInterval}, Timeout={Timeout}, " +
        $"MaxRemovalShare={MaxRemovalShare}, CaFile={CaFile ?? "(system)"}, InsecureSkipTlsVerify={InsecureSkipTlsVerify}, RewriteLinks={RewriteLinks}");
}

/// <summary>Checks <see cref="AbiquoOptions"/> at start-up; each message names the key and what to put in it.</summary>
public sealed partial class AbiquoOptionsValidator : IValidateOptions<AbiquoOptions>
{
    private readonly Func<IReadOnlyList<string>> _commandLine;

    /// <summary>Validates against this process's command line.</summary>
    public AbiquoOptionsValidator()
        : this(Environment.GetCommandLineArgs)
    {
    }

    /// <summary>Validates against the given command line (tests).</summary>
    public AbiquoOptionsValidator(Func<IReadOnlyList<string>> commandLine) => _commandLine = commandLine;

    [GeneratedRegex(@"^\d+\.\d+$")]
    private static partial Regex VersionPattern();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AbiquoOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ApiUrl))
        {
            failures.Add("Abiquo:ApiUrl is required: the API root, e.g. https://abiquo.example/api");
        }
        else if (!Uri.TryCreate(options.ApiUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"Abiquo:ApiUrl '{options.ApiUrl}' is not an absolute http(s) URL: use e.g. https://abiquo.example/api");
        }
        else if (url.UserInfo.Length > 0)
        {
            failures.Add("Abiquo:ApiUrl must not carry credentials: put the account in Abiquo:User and the password in Abiquo:PasswordFile");
        }
        else if (url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            failures.Add($"Abiquo:ApiUrl '{options.ApiUrl}' must be the API root without a query or fragment, e.g. https://abiquo.example/api");
        }

        if (string.IsNullOrWhiteSpace(options.User))
        {
            failures.Add("Abiquo:User is required: a cloud administrator account that sees every enterprise");
        }

        ValidatePassword(options, failures);

        if (!string.IsNullOrEmpty(options.ApiVersion) && !VersionPattern().IsMatch(options.ApiVersion))
        {
            failures.Add($"Abiquo:ApiVersion '{options.ApiVersion}' must be MAJOR.MINOR (e.g. 3.10), or empty for the server's newest");
        }

        if (options.SyncInterval < TimeSpan.FromSeconds(1) || options.SyncInterval > TimeSpan.FromDays(1))
        {
            failures.Add($"Abiquo:SyncInterval {options.SyncInterval} must be between 00:00:01 and 1.00:00:00 (default 00:00:30)");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Abiquo:Timeout {options.Timeout} must be above zero and at most 00:10:00 (default 00:00:30)");
        }

        if (options.KeeperInterval < TimeSpan.FromMilliseconds(100) || options.KeeperInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"Abiquo:KeeperInterval {options.KeeperInterval} must be between 00:00:00.1 and 01:00:00 (default 00:00:10)");
        }

        if (!(options.MaxRemovalShare > 0 && options.MaxRemovalShare <= 1))
        {
            failures.Add($"Abiquo:MaxRemovalShare {options.MaxRemovalShare.ToString(CultureInfo.InvariantCulture)} must be above 0 and at most 1 (default 0.5: hold a sync that would remove more than half of the tokens)");
        }

        if (!string.IsNullOrEmpty(options.CaFile))
        {
            if (options.InsecureSkipTlsVerify)
            {
                failures.Add("Abiquo:CaFile and Abiquo:InsecureSkipTlsVerify contradict each other: keep CaFile and remove InsecureSkipTlsVerify");
            }
            else if (!File.Exists(options.CaFile))
            {
                failures.Add($"Abiquo:CaFile '{options.CaFile}' does not exist: give a PEM file with the CA certificates that sign the API's certificate");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidatePassword(AbiquoOptions options, List<string> failures)
    {
        var hasPassword = !string.IsNullOrEmpty(options.Password);
        var hasFile = !string.IsNullOrEmpty(options.PasswordFile);
        if (hasPassword && hasFile)
        {
            failures.Add("set either Abiquo:Password or Abiquo:PasswordFile, not both (prefer PasswordFile)");
        }
        else if (!hasPassword && !hasFile)
        {
            failures.Add("Abiquo:PasswordFile is required: a file holding the password of Abiquo:User (or set the environment variable Abiquo__Password)");
        }
        else if (hasFile)
        {
            try
            {
                if (options.ResolvePassword().Length == 0)
                {
                    failures.Add($"Abiquo:PasswordFile '{options.PasswordFile}' is empty: write the password of Abiquo:User into it");
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                failures.Add($"Abiquo:PasswordFile '{options.PasswordFile}' cannot be read ({exception.Message}): check the path and that the node's user may read it");
            }
        }

        if (hasPassword && _commandLine().Any(arg => IsPasswordArgument(arg)))
        {
            failures.Add("Abiquo:Password was given on the command line, where ps shows it to every user: use Abiquo:PasswordFile or the environment variable Abiquo__Password");
        }
    }

    private static bool IsPasswordArgument(string arg)
    {
        var key = arg.TrimStart('-', '/');
        var end = key.IndexOf('=', StringComparison.Ordinal);
        key = (end >= 0 ? key[..end] : key).Replace("__", ":", StringComparison.Ordinal);
        return key.Equals("Abiquo:Password", StringComparison.OrdinalIgnoreCase);
    }
}
