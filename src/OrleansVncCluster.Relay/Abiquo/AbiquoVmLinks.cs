namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>What the sync reads of a VM's <c>links</c>: the titles of its first <c>machine</c> and first <c>enterprise</c> link.</summary>
/// <param name="Machine">The hypervisor's name.</param>
/// <param name="Enterprise">The tenant's name.</param>
internal readonly record struct AbiquoVmLinks(string? Machine, string? Enterprise);
