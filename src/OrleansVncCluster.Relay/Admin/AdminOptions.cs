using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admin;

/// <summary>The admin credential (configuration section "Admin"): a bearer token, given directly or in a file.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The token itself (prefer <see cref="TokenFile"/> or systemd's LoadCredential: file "admin-token").</summary>
    public string? Token { get; set; }

    /// <summary>A file holding the token.</summary>
    public string? TokenFile { get; set; }

    internal string? Resolve() =>
        Token is { Length: > 0 } token ? token : TokenFile is { Length: > 0 } file && File.Exists(file) ? File.ReadAllText(file).Trim() : null;
}

/// <summary>Start-up validation of <see cref="AdminOptions"/> with messages that say what to fix; the token is never printed.</summary>
internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        if (options.TokenFile is { Length: > 0 } file && !File.Exists(file))
        {
            return ValidateOptionsResult.Fail($"Admin:TokenFile '{file}' does not exist; it holds the admin bearer token (or give the admin-token credential)");
        }

        return ValidateOptionsResult.Success;
    }
}
