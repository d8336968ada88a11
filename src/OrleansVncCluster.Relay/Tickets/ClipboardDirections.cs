namespace OrleansVncCluster.Relay.Tickets;

/// <summary>Which ways clipboard contents may travel in a console session (issue 13, item 4). Written in settings and
/// the ticket API as <c>both</c>, <c>to-vm</c>, <c>from-vm</c> or <c>none</c> (<see cref="ClipboardText"/>).</summary>
[Flags]
public enum ClipboardDirections
{
    /// <summary>No clipboard contents either way.</summary>
    None = 0,

    /// <summary>From the browser to the VM (ClientCutText).</summary>
    ToVm = 1,

    /// <summary>From the VM to the browser (ServerCutText).</summary>
    FromVm = 2,

    /// <summary>Both ways: the default.</summary>
    Both = ToVm | FromVm,
}
