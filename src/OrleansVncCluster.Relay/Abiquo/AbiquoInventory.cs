namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>Every VM of every enterprise, and what it took to read them.</summary>
public sealed record AbiquoInventory(IReadOnlyList<AbiquoVirtualMachine> VirtualMachines, AbiquoReadSummary Summary);
