namespace OrleansVncCluster.Relay.Tickets;

/// <summary>The words for <see cref="ClipboardDirections"/> in settings (Vnc:Clipboard) and the ticket API.</summary>
public static class ClipboardText
{
    /// <summary>The accepted words, for messages that say what to write.</summary>
    public const string Choices = "\"both\", \"to-vm\", \"from-vm\" or \"none\"";

    /// <summary>Reads a word (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out ClipboardDirections directions)
    {
        directions = text?.Trim().ToLowerInvariant() switch
        {
            "both" => ClipboardDirections.Both,
            "to-vm" => ClipboardDirections.ToVm,
            "from-vm" => ClipboardDirections.FromVm,
            "none" => ClipboardDirections.None,
            _ => (ClipboardDirections)(-1),
        };
        return directions != (ClipboardDirections)(-1);
    }

    /// <summary>The word for <paramref name="directions"/>.</summary>
    public static string Format(ClipboardDirections directions) => (directions & ClipboardDirections.Both) switch
    {
        ClipboardDirections.Both => "both",
        ClipboardDirections.ToVm => "to-vm",
        ClipboardDirections.FromVm => "from-vm",
        _ => "none",
    };
}
