namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>A VM as the token sync needs it.</summary>
/// <param name="Id">Abiquo's numeric id.</param>
/// <param name="Name">Internal name (<c>ABQ_uuid</c>).</param>
/// <param name="Label">The name users see.</param>
/// <param name="State">ON, OFF, NOT_ALLOCATED, ...</param>
/// <param name="VdrpIP">Console address (the hypervisor's); null when undeployed.</param>
/// <param name="VdrpPort">Console port; 0 when undeployed.</param>
/// <param name="Password">VNC password, when set.</param>
/// <param name="Enterprise">The tenant's name.</param>
/// <param name="Hypervisor">The title of the VM's <c>machine</c> link.</param>
public sealed record AbiquoVirtualMachine(int? Id, string? Name, string? Label, string? State, string? VdrpIP, int VdrpPort,
    string? Password, string? Enterprise, string? Hypervisor)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() =>
        $"VM {Id} {Name} '{Label}' {State} {VdrpIP}:{VdrpPort} enterprise '{Enterprise}' hypervisor '{Hypervisor}' password {(Password is null ? "(none)" : "***")}";
}
