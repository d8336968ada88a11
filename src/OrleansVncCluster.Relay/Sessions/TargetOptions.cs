using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Rfb;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>How the relay reaches VNC servers when it logs in itself: TLS (VeNCrypt X.509) to the hypervisor
/// (configuration section "Targets").</summary>
public sealed class TargetOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Targets";

    /// <summary>PEM file of the CA(s) a VNC server's X.509 certificate must chain to. Setting it makes the relay log in to
    /// every VNC server itself, so that TLS can be used even without a known password.</summary>
    public string? CaFile { get; set; }

    /// <summary>The server certificate must name the target's address (or the name the token source gave).</summary>
    public bool VerifyName { get; set; } = true;

    /// <summary>PEM client certificate for VNC servers that ask for one; goes with <see cref="ClientKeyFile"/>.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Refuse VNC servers that offer no X.509 TLS (the browser gets 4502 and the reason).</summary>
    public bool RequireTls { get; set; }

    /// <summary>The whole login to a VNC server, from its first byte to ServerInit, must end within this.</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>True when every session must be logged in by the relay, password or not: TLS needs the relay to speak RFB.</summary>
    public bool LoginAlways => RequireTls || !string.IsNullOrEmpty(CaFile);
}

/// <summary>Start-up validation of <see cref="TargetOptions"/>: the files exist and load, with messages that say what to fix.</summary>
internal sealed class TargetOptionsValidator : IValidateOptions<TargetOptions>
{
    public ValidateOptionsResult Validate(string? name, TargetOptions options)
    {
        var errors = new List<string>();
        if (options.CaFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            errors.Add($"Targets:CaFile '{ca}' does not exist: give the PEM file of the CA that signed the VNC servers' certificates");
        }

        if (string.IsNullOrEmpty(options.ClientCertificateFile) != string.IsNullOrEmpty(options.ClientKeyFile))
        {
            errors.Add("Targets:ClientCertificateFile and Targets:ClientKeyFile go together: set both or neither");
        }

        foreach (var (setting, file) in new[] { ("ClientCertificateFile", options.ClientCertificateFile), ("ClientKeyFile", options.ClientKeyFile) })
        {
            if (file is { Length: > 0 } && !File.Exists(file))
            {
                errors.Add($"Targets:{setting} '{file}' does not exist");
            }
        }

        if (options.LoginTimeout <= TimeSpan.Zero)
        {
            errors.Add("Targets:LoginTimeout must be positive, e.g. 00:00:10");
        }

        if (errors.Count == 0)
        {
            try
            {
                // Load the files now, so a bad PEM stops the node at start-up instead of failing every session.
                _ = new RfbTargetLogin(options.ToLoginOptions(exclusive: false));
            }
            catch (InvalidOperationException exception)
            {
                errors.Add(exception.Message);
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Maps the host's settings onto the RFB layer's options.</summary>
internal static class TargetOptionsExtensions
{
    public static RfbTargetLoginOptions ToLoginOptions(this TargetOptions options, bool exclusive) => new()
    {
        CaFile = string.IsNullOrEmpty(options.CaFile) ? null : options.CaFile,
        ClientCertificateFile = string.IsNullOrEmpty(options.ClientCertificateFile) ? null : options.ClientCertificateFile,
        ClientKeyFile = string.IsNullOrEmpty(options.ClientKeyFile) ? null : options.ClientKeyFile,
        RequireTls = options.RequireTls,
        VerifyName = options.VerifyName,
        Exclusive = exclusive,
        Timeout = options.LoginTimeout,
    };
}
