using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Admission;

/// <summary>
/// Abuse limits (configuration section "Limits"). Every limit is on by default with values a normal user never meets;
/// 0 turns one off. Sessions per client and per token count across the whole cluster; handshake and failed-token rates
/// count per node, which is enough because HAProxy's <c>balance source</c> pins an address to one node.
/// </summary>
public sealed class LimitsOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Limits";

    /// <summary>Live sessions one client address may hold across the cluster (0 = no limit). Generous: offices share a NAT address.</summary>
    public int MaxSessionsPerClient { get; set; } = 50;

    /// <summary>Live sessions one console token (one VM) may have across the cluster (0 = no limit).</summary>
    public int MaxSessionsPerToken { get; set; } = 10;

    /// <summary>WebSocket handshakes one client address may make per second on a node (0 = no limit).</summary>
    public int HandshakesPerSecond { get; set; } = 10;

    /// <summary>Handshakes a client address may make in a burst before <see cref="HandshakesPerSecond"/> applies.</summary>
    public int HandshakeBurst { get; set; } = 30;

    /// <summary>Failed tokens (missing, malformed, unknown, bad ticket) one client address may present per window (0 = no limit).</summary>
    public int MaxFailedTokens { get; set; } = 20;

    /// <summary>
    /// Failed tokens per window from one IPv6 /48 (a site: what one customer is routed), counted besides the per-/64
    /// count of <see cref="MaxFailedTokens"/>: a guesser holding a /48 has 65,536 /64s, each with its own budget. 0 = off.
    /// </summary>
    public int MaxFailedTokensPerIPv6Site { get; set; } = 100;

    /// <summary>The window of <see cref="MaxFailedTokens"/>; once over, the address is refused without lookups until it ends.</summary>
    public TimeSpan FailedTokenWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Networks (CIDR) console targets must lie in, e.g. 10.20.0.0/16 for the hypervisors' VNC ports; empty dials whatever
    /// the token table names. When set, host names are resolved and every address checked, and the node's own ports are refused.
    /// </summary>
    public List<string> AllowedTargetNetworks { get; set; } = [];

    /// <summary>Deadline of the lease grain calls; when they miss it the session is admitted (the limits fail open).</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>IPv6 clients are counted per prefix of this length: one host usually owns a whole /64.</summary>
    public int ClientIPv6PrefixLength { get; set; } = 64;
}

/// <summary>Start-up validation of <see cref="LimitsOptions"/> with messages that say what to fix.</summary>
internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var errors = new List<string>();
        if (options.MaxSessionsPerClient < 0)
        {
            errors.Add("Limits:MaxSessionsPerClient must be 0 (no limit) or positive, e.g. 50");
        }

        if (options.MaxSessionsPerToken < 0)
        {
            errors.Add("Limits:MaxSessionsPerToken must be 0 (no limit) or positive, e.g. 10");
        }

        if (options.HandshakesPerSecond < 0)
        {
            errors.Add("Limits:HandshakesPerSecond must be 0 (no limit) or positive, e.g. 10");
        }

        if (options.HandshakesPerSecond > 0 && options.HandshakeBurst < options.HandshakesPerSecond)
        {
            errors.Add($"Limits:HandshakeBurst {options.HandshakeBurst} must be at least Limits:HandshakesPerSecond ({options.HandshakesPerSecond}), e.g. 30");
        }

        if (options.MaxFailedTokens < 0)
        {
            errors.Add("Limits:MaxFailedTokens must be 0 (no limit) or positive, e.g. 20");
        }

        if (options.MaxFailedTokensPerIPv6Site < 0)
        {
            errors.Add("Limits:MaxFailedTokensPerIPv6Site must be 0 (no limit) or positive, e.g. 100");
        }

        if (options.MaxFailedTokens > 0 && (options.FailedTokenWindow < TimeSpan.FromSeconds(1) || options.FailedTokenWindow > TimeSpan.FromDays(1)))
        {
            errors.Add($"Limits:FailedTokenWindow {options.FailedTokenWindow} must be between 00:00:01 and 1.00:00:00, e.g. 00:01:00");
        }

        if (options.LeaseTimeout <= TimeSpan.Zero || options.LeaseTimeout > TimeSpan.FromSeconds(30))
        {
            errors.Add($"Limits:LeaseTimeout {options.LeaseTimeout} must be positive and at most 00:00:30, e.g. 00:00:02");
        }

        if (options.ClientIPv6PrefixLength is < 32 or > 128)
        {
            errors.Add($"Limits:ClientIPv6PrefixLength {options.ClientIPv6PrefixLength} must be between 32 and 128, e.g. 64");
        }

        foreach (var network in options.AllowedTargetNetworks)
        {
            if (!Networks.TryParse(network, out _))
            {
                errors.Add($"Limits:AllowedTargetNetworks entry '{network}' is not a network; write CIDR, e.g. 10.20.0.0/16, 192.0.2.7/32 or fd00::/8");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
