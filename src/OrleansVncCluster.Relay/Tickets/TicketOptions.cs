using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Tickets;

/// <summary>Signed console tickets (configuration section "Tickets"). Without a secret, tickets are off.</summary>
public sealed class TicketOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Tickets";

    /// <summary>Shortest secret accepted: 32 characters, e.g. <c>openssl rand -base64 32</c> gives 44.</summary>
    public const int MinSecretLength = 32;

    /// <summary>Shortest API key accepted.</summary>
    public const int MinApiKeyLength = 24;

    /// <summary>The cluster secret itself; filled from systemd's "ticket-secret" credential. Prefer <see cref="SecretFile"/>.</summary>
    public string? Secret { get; set; }

    /// <summary>A file holding the cluster secret (the same on every node); re-read when it changes.</summary>
    public string? SecretFile { get; set; }

    /// <summary>Secrets that signed earlier tickets, still accepted for <see cref="RotationGrace"/> after a rotation.</summary>
    public List<string> PreviousSecretFiles { get; set; } = [];

    /// <summary>
    /// How long previous secrets stay accepted, counted from the last write of <see cref="SecretFile"/> (the rotation).
    /// Longer than the longest ticket lifetime, so a ticket issued just before the rotation still opens.
    /// </summary>
    public TimeSpan RotationGrace { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a ticket may be used to open a console when the issuer does not say.</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The most <see cref="MaxTtl"/> may be: a single-use redemption record lives in Redis a little longer (Cluster/TicketStorage).</summary>
    public static readonly TimeSpan MaxTtlLimit = TimeSpan.FromHours(1);

    /// <summary>The longest lifetime an issuer may ask for.</summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Whether tickets are single-use when the issuer does not say. True: a console link is for one browser, and a link
    /// copied out of its history or a proxy log opens nothing once used.
    /// </summary>
    public bool SingleUseByDefault { get; set; } = true;

    /// <summary>
    /// Whether legacy vt1 tickets (token in clear text, bound to an address, not a VM) still open consoles. Off: nodes
    /// issue vt2 only; turn it on for the rolling upgrade from a version that issued vt1 (at most Tickets:MaxTtl long).
    /// </summary>
    public bool AcceptV1Tickets { get; set; }

    /// <summary>
    /// A file holding an API key that may issue tickets and nothing else (POST /api/tickets), for a cloud portal that
    /// must not hold the admin credential.
    /// </summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>How often the secret files are checked for changes.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Deadline of the single-use redemption call; on timeout the ticket is refused (fail closed).</summary>
    public TimeSpan RedeemTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a console page may come back after its session ended (a drain, a node lost) without its ticket: the
    /// lifetime of the resume credential the relay hands the page (an HttpOnly cookie on the WebSocket's 101), renewed by
    /// the page's presence call while the session lives. Zero turns resuming (and the presence call) off.
    /// </summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest <see cref="ResumeWindow"/>: the credential is a bearer grant, meant for a reconnect, not a re-visit.</summary>
    public static readonly TimeSpan MaxResumeWindow = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Whether console pages may hand out view-only links (the share button) at all. True: a control ticket issued with
    /// <c>"share": true</c> lets its page share; false forbids sharing on the whole cluster (the ticket API then refuses
    /// <c>share</c>, and tickets issued with it no longer share). Set it alike on every node.
    /// </summary>
    public bool AllowShare { get; set; } = true;

    /// <summary>How long a view-only link from the share button may open the console (once). Cut to <see cref="MaxTtl"/>
    /// when longer, so a cluster that shortened its tickets' lifetime needs no second setting.</summary>
    public TimeSpan ShareTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>True when a secret is configured, inline or in a file.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Secret) || !string.IsNullOrWhiteSpace(SecretFile);
}

internal sealed class TicketOptionsValidator(IOptionsMonitor<TokenOptions> tokens) : IValidateOptions<TicketOptions>
{
    private const string Generate = "create one with: (umask 077; openssl rand -base64 32 > FILE)";

    public ValidateOptionsResult Validate(string? name, TicketOptions options)
    {
        var errors = new List<string>();
        if (options.Secret is { Length: > 0 } inline && inline.Trim().Length < TicketOptions.MinSecretLength)
        {
            errors.Add($"Tickets:Secret (the ticket-secret credential) is {inline.Trim().Length} characters; at least {TicketOptions.MinSecretLength} are needed: {Generate}");
        }

        if (options.SecretFile is { Length: > 0 } file)
        {
            CheckSecretFile("Tickets:SecretFile", file, errors);
        }

        foreach (var previous in options.PreviousSecretFiles)
        {
            CheckSecretFile("Tickets:PreviousSecretFiles entry", previous, errors);
        }

        if (options.PreviousSecretFiles.Count > 0 && string.IsNullOrWhiteSpace(options.SecretFile) && string.IsNullOrWhiteSpace(options.Secret))
        {
            errors.Add("Tickets:PreviousSecretFiles is set but there is no current secret: set Tickets:SecretFile");
        }

        if (options.ApiKeyFile is { Length: > 0 } apiKeyFile)
        {
            if (!File.Exists(apiKeyFile))
            {
                errors.Add($"Tickets:ApiKeyFile '{apiKeyFile}' does not exist: {Generate.Replace("FILE", apiKeyFile, StringComparison.Ordinal)}");
            }
            else if (File.ReadAllText(apiKeyFile).Trim().Length < TicketOptions.MinApiKeyLength)
            {
                errors.Add($"Tickets:ApiKeyFile '{apiKeyFile}' holds fewer than {TicketOptions.MinApiKeyLength} characters: {Generate.Replace("FILE", apiKeyFile, StringComparison.Ordinal)}");
            }
        }

        if (options.DefaultTtl <= TimeSpan.Zero || options.DefaultTtl > options.MaxTtl)
        {
            errors.Add($"Tickets:DefaultTtl ({options.DefaultTtl}) must be positive and at most Tickets:MaxTtl ({options.MaxTtl}), e.g. 00:01:00");
        }

        if (options.MaxTtl > TicketOptions.MaxTtlLimit)
        {
            errors.Add($"Tickets:MaxTtl ({options.MaxTtl}) may be at most {TicketOptions.MaxTtlLimit}: single-use records expire from Redis after that; a console link is for now, e.g. 00:10:00");
        }

        if (options.RotationGrace < options.MaxTtl)
        {
            errors.Add($"Tickets:RotationGrace ({options.RotationGrace}) must be at least Tickets:MaxTtl ({options.MaxTtl}), or tickets issued just before a rotation are refused");
        }

        if (options.ResumeWindow < TimeSpan.Zero || options.ResumeWindow > TicketOptions.MaxResumeWindow
            || (options.ResumeWindow > TimeSpan.Zero && options.ResumeWindow < TimeSpan.FromSeconds(20)))
        {
            errors.Add($"Tickets:ResumeWindow ({options.ResumeWindow}) must be 0 (no resuming) or between 00:00:20 and {TicketOptions.MaxResumeWindow}, e.g. 00:02:00");
        }

        if (options.ShareTtl <= TimeSpan.Zero || options.ShareTtl > TicketOptions.MaxTtlLimit)
        {
            errors.Add($"Tickets:ShareTtl ({options.ShareTtl}) must be positive and at most {TicketOptions.MaxTtlLimit}: it is the lifetime of a shared view-only link, e.g. 00:10:00");
        }

        if (options.ReloadInterval <= TimeSpan.Zero || options.RedeemTimeout <= TimeSpan.Zero)
        {
            errors.Add("Tickets:ReloadInterval and Tickets:RedeemTimeout must be positive, e.g. 00:00:02");
        }

        if (!options.Enabled && !tokens.CurrentValue.AcceptPlainTokens)
        {
            errors.Add("Tokens:AcceptPlainTokens is false but tickets are off, so no console could open: set Tickets:SecretFile (or the ticket-secret credential)");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckSecretFile(string setting, string file, List<string> errors)
    {
        if (!File.Exists(file))
        {
            errors.Add($"{setting} '{file}' does not exist: {Generate.Replace("FILE", file, StringComparison.Ordinal)}");
            return;
        }

        var length = File.ReadAllText(file).Trim().Length;
        if (length < TicketOptions.MinSecretLength)
        {
            errors.Add($"{setting} '{file}' holds {length} characters; at least {TicketOptions.MinSecretLength} are needed: {Generate.Replace("FILE", file, StringComparison.Ordinal)}");
        }
    }
}
