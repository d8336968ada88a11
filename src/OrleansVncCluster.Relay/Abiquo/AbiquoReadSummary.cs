namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>What it took to read every VM of every enterprise (<see cref="AbiquoClient.ReadVirtualMachinesAsync"/>).</summary>
/// <param name="VirtualMachines">VMs handed over.</param>
/// <param name="Enterprises">Enterprises listed.</param>
/// <param name="VanishedEnterprises">Enterprises deleted between the listing and the read of their VMs.</param>
/// <param name="Requests">HTTP requests made.</param>
/// <param name="Elapsed">Time from the first request to the last VM handed over.</param>
public sealed record AbiquoReadSummary(int VirtualMachines, int Enterprises, int VanishedEnterprises, int Requests, TimeSpan Elapsed);
