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

    /// <summary>The flag bits a ticket or resume credential carries: bit 2 no clipboard to the VM, bit 3 none from it.
    /// Clear bits say both ways, so credentials sealed before the choice existed mean the cluster's default.</summary>
    internal static byte ToFlags(ClipboardDirections directions) =>
        (byte)(((directions & ClipboardDirections.ToVm) == 0 ? NoClipboardToVm : 0) | ((directions & ClipboardDirections.FromVm) == 0 ? NoClipboardFromVm : 0));

    /// <summary>The directions the flag bits of <see cref="ToFlags"/> leave open.</summary>
    internal static ClipboardDirections FromFlags(byte flags) =>
        ((flags & NoClipboardToVm) != 0 ? ClipboardDirections.None : ClipboardDirections.ToVm)
        | ((flags & NoClipboardFromVm) != 0 ? ClipboardDirections.None : ClipboardDirections.FromVm);

    private const byte NoClipboardToVm = 4;
    private const byte NoClipboardFromVm = 8;
}
