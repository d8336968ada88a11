using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>The node-wide admission settings; they sit in the relay's configuration section "Relay" with its other keys.</summary>
public sealed class AdmissionOptions
{
    /// <summary>Configuration section (shared with RelayOptions).</summary>
    public const string Section = "Relay";

    /// <summary>Most sessions this node carries; beyond it new sessions are refused with 4429 (0 = no cap).</summary>
    public int MaxSessions { get; set; }

    /// <summary>Origins (besides the node's own host) whose pages may open consoles, e.g. https://abiquo.example.com;
    /// "*" turns the cross-site WebSocket check off.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>The URL users reach the cluster at (HAProxy), e.g. https://console.example.com; its origin is allowed.</summary>
    public string? PublicUrl { get; set; }
}

/// <summary>Start-up validation of <see cref="AdmissionOptions"/> with messages that say what to fix.</summary>
internal sealed class AdmissionOptionsValidator : IValidateOptions<AdmissionOptions>
{
    public ValidateOptionsResult Validate(string? name, AdmissionOptions options) =>
        options.MaxSessions < 0 ? ValidateOptionsResult.Fail("Relay:MaxSessions must be 0 (no cap) or positive, e.g. 5000") : ValidateOptionsResult.Success;
}
