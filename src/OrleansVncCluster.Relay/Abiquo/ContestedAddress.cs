namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>A console address that VMs of several enterprises report (Abiquo reused it), so no token names it.</summary>
/// <param name="Address">IP:port.</param>
/// <param name="Vms">The VMs that report it, as "enterprise/vm id".</param>
public sealed record ContestedAddress(string Address, IReadOnlyList<string> Vms);
