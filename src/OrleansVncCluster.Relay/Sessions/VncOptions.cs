namespace OrleansVncCluster.Relay.Sessions;

/// <summary>How the relay speaks RFB to VNC servers when it logs in itself (configuration section "Vnc").</summary>
public sealed class VncOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Vnc";

    /// <summary>Ask VNC servers for exclusive consoles (ClientInit shared-flag 0), which makes them disconnect every other
    /// viewer. Off by default: every session the relay logs in shares, so a viewer never kicks the owner.</summary>
    public bool Exclusive { get; set; }
}
