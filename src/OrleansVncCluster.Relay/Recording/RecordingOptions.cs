using Microsoft.Extensions.Options;

namespace OrleansVncCluster.Relay.Recording;

/// <summary>Session recording (configuration section "Recording", docs/RECORDING.md): whether sessions are recorded, where
/// the files go, how long they stay and how much disk they may take on a node.</summary>
public sealed class RecordingOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Recording";

    /// <summary>The modes as written in configuration.</summary>
    public const string ModeChoices = "off, on or required";

    /// <summary>Where this node writes its recordings (created when missing); empty turns recording off on this node, and
    /// then a ticket asking for a recording is refused and a session that must be recorded is refused too.</summary>
    public string? Directory { get; set; }

    /// <summary>The cluster's policy: "off" (the default), "on" or "required".</summary>
    public string Mode { get; set; } = "off";

    /// <summary>Per enterprise (its id or its name as the token source knows them): "off", "on" or "required", overriding
    /// <see cref="Mode"/>.</summary>
    public Dictionary<string, string> Enterprises { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a ticket may ask for a recording (<c>"record": true</c>) of a session the policy does not record.</summary>
    public bool AllowPerTicket { get; set; } = true;

    /// <summary>How often a recorded session gets a keyframe (a full screen update playback can start at).</summary>
    public TimeSpan KeyframeInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Keep the keysym of each key press in recordings. Off by default: a recording then shows when keys were
    /// pressed, never which (passwords typed into a console stay out of it). Logged as a warning at start-up when on.</summary>
    public bool IncludeKeyValues { get; set; }

    /// <summary>How long a recording is kept; each node deletes its own older files, and the index forgets them.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>The most disk this node's recordings may take, in bytes; the oldest finished recordings are deleted to stay
    /// under it. 0 (the default) sets no budget.</summary>
    public long MaxDiskBytes { get; set; }

    /// <summary>True when this node has somewhere to write recordings.</summary>
    public bool Configured => !string.IsNullOrWhiteSpace(Directory);

    /// <summary>Whether a session of <paramref name="enterprise"/> is recorded: the enterprise's setting, else the cluster's;
    /// a ticket that asked for a recording makes it <see cref="RecordingMode.Required"/> (the portal asked: the session
    /// never opens unrecorded).</summary>
    public RecordingMode ModeFor(string? enterprise, bool ticketAsks)
    {
        if (ticketAsks)
        {
            return RecordingMode.Required;
        }

        return enterprise is not null && Enterprises.TryGetValue(enterprise, out var text) && TryParseMode(text, out var own)
            ? own
            : TryParseMode(Mode, out var cluster) ? cluster : RecordingMode.Off;
    }

    /// <summary>Why a ticket may not ask for a recording, or null when it may.</summary>
    public string? RefusesTicketAsk()
    {
        if (!Configured)
        {
            return "recording is not configured on this relay (Recording:Directory is empty): a ticket cannot ask for one";
        }

        return AllowPerTicket ? null : "this relay does not let a ticket ask for a recording (Recording:AllowPerTicket is false)";
    }

    /// <summary>Reads a mode as written in configuration (any case, spaces around it ignored). Asked per session, so it
    /// compares in place rather than building a lower-case copy.</summary>
    public static bool TryParseMode(string? text, out RecordingMode mode)
    {
        var word = text.AsSpan().Trim();
        mode = RecordingMode.Off;
        if (word.Equals("on", StringComparison.OrdinalIgnoreCase))
        {
            mode = RecordingMode.On;
        }
        else if (word.Equals("required", StringComparison.OrdinalIgnoreCase))
        {
            mode = RecordingMode.Required;
        }
        else if (!word.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return true;
    }
}

/// <summary>Checks <see cref="RecordingOptions"/> at start-up, each message saying what to fix.</summary>
internal sealed class RecordingOptionsValidator : IValidateOptions<RecordingOptions>
{
    public ValidateOptionsResult Validate(string? name, RecordingOptions options)
    {
        var errors = new List<string>();
        if (!RecordingOptions.TryParseMode(options.Mode, out var mode))
        {
            errors.Add($"Recording:Mode is '{options.Mode}': write {RecordingOptions.ModeChoices}");
        }

        foreach (var (enterprise, text) in options.Enterprises)
        {
            if (!RecordingOptions.TryParseMode(text, out var enterpriseMode))
            {
                errors.Add($"Recording:Enterprises:{enterprise} is '{text}': write {RecordingOptions.ModeChoices}");
            }
            else if (enterpriseMode != RecordingMode.Off && !options.Configured)
            {
                errors.Add($"Recording:Enterprises:{enterprise} is '{text}' but Recording:Directory is empty: set the directory this node writes recordings to");
            }
        }

        if (mode != RecordingMode.Off && !options.Configured)
        {
            errors.Add($"Recording:Mode is '{options.Mode}' but Recording:Directory is empty: set the directory this node writes recordings to, or Recording:Mode=off");
        }

        if (options.KeyframeInterval < TimeSpan.FromSeconds(1) || options.KeyframeInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Recording:KeyframeInterval '{options.KeyframeInterval}' must be between 00:00:01 and 00:10:00, e.g. 00:00:10");
        }

        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(3650))
        {
            errors.Add($"Recording:Retention '{options.Retention}' must be between 01:00:00 and 3650.00:00:00 (ten years), e.g. 90.00:00:00 for 90 days");
        }

        if (options.MaxDiskBytes < 0)
        {
            errors.Add($"Recording:MaxDiskBytes is {options.MaxDiskBytes}: write a size in bytes, e.g. 107374182400 for 100 GiB, or 0 for no budget");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
