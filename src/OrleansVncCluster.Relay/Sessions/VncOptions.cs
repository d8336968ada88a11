using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Tickets;

namespace OrleansVncCluster.Relay.Sessions;

/// <summary>How the relay speaks RFB to VNC servers when it logs in itself, and the cluster's clipboard policy
/// (configuration section "Vnc").</summary>
public sealed class VncOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Vnc";

    /// <summary>Ask VNC servers for exclusive consoles (ClientInit shared-flag 0), which makes them disconnect every other
    /// viewer. Off by default: every session the relay logs in shares, so a viewer never kicks the owner.</summary>
    public bool Exclusive { get; set; }

    /// <summary>Which ways clipboard contents may go in every session: "both" (the default, and the only choice that
    /// keeps sessions opaque pipes), "to-vm", "from-vm" or "none". A ticket can narrow it further, never widen it.</summary>
    public string Clipboard { get; set; } = "both";

    /// <summary>Larger clipboard contents are dropped, either way; 0 (the default) sets no cap. A cap makes the relay
    /// parse both directions of every session (docs/RFB.md, "Clipboard policy").</summary>
    public long MaxClipboardBytes { get; set; }

    /// <summary><see cref="Clipboard"/> read (validated at start-up, so never unreadable on a running node).</summary>
    public ClipboardDirections ClipboardDirections => ClipboardText.TryParse(Clipboard, out var directions) ? directions : ClipboardDirections.None;
}

/// <summary>Start-up validation of <see cref="VncOptions"/>, with messages that say what to fix.</summary>
internal sealed class VncOptionsValidator : IValidateOptions<VncOptions>
{
    public ValidateOptionsResult Validate(string? name, VncOptions options)
    {
        var errors = new List<string>();
        if (!ClipboardText.TryParse(options.Clipboard, out _))
        {
            errors.Add($"Vnc:Clipboard is '{options.Clipboard}': write {ClipboardText.Choices} (which ways clipboard contents may go)");
        }

        if (options.MaxClipboardBytes < 0)
        {
            errors.Add($"Vnc:MaxClipboardBytes is {options.MaxClipboardBytes}: write a size in bytes, e.g. 1048576, or 0 for no cap");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
