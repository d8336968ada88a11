namespace OrleansVncCluster.AbiquoSimulator.World;

/// <summary>Abiquo's VM states, in the order of their <c>idState</c> numbers (NOT_ALLOCATED = 1 ... UNKNOWN = 8).</summary>
public enum VmState
{
    NotAllocated = 1,
    Allocated = 2,
    Configured = 3,
    On = 4,
    Paused = 5,
    Off = 6,
    Locked = 7,
    Unknown = 8,
}

/// <summary>Spelling of states on the wire.</summary>
public static class VmStates
{
    private static readonly string[] Names = ["", "NOT_ALLOCATED", "ALLOCATED", "CONFIGURED", "ON", "PAUSED", "OFF", "LOCKED", "UNKNOWN"];

    /// <summary>The wire name (<c>NOT_ALLOCATED</c>, <c>ON</c>, ...).</summary>
    public static string ToWire(this VmState state) => Names[(int)state];

    /// <summary>Parses a wire name, case-insensitively.</summary>
    public static bool TryParse(string? text, out VmState state)
    {
        var index = Array.FindIndex(Names, name => name.Length > 0 && string.Equals(name, text, StringComparison.OrdinalIgnoreCase));
        state = index > 0 ? (VmState)index : VmState.Unknown;
        return index > 0;
    }

    /// <summary>True when Abiquo has placed the VM on a hypervisor, so it has a console address.</summary>
    public static bool IsDeployed(this VmState state) => state is not (VmState.NotAllocated or VmState.Unknown);
}

/// <summary>A tenant.</summary>
public sealed record SimEnterprise(int Id, string Name);

/// <summary>A physical machine running VMs; its address is every hosted VM's <c>vdrpIP</c>.</summary>
/// <remarks><c>Pinned</c>: created for an explicit console address (a real local VNC server), so never chosen for other VMs.</remarks>
public sealed record SimHypervisor(int Id, string Name, string Ip, int DatacenterId, int RackId, bool Pinned = false);

/// <summary>A virtual machine as the simulator stores it.</summary>
public sealed record SimVm
{
    public required int Id { get; init; }
    public required int EnterpriseId { get; init; }
    public required Guid Uuid { get; init; }
    /// <summary>What a VM's name is made of before its UUID, as Abiquo names the VMs it creates.</summary>
    public const string NamePrefix = "ABQ_";

    public string Name => $"{NamePrefix}{Uuid}";
    public string? Label { get; init; }
    public VmState State { get; init; }

    /// <summary>The hypervisor, when deployed.</summary>
    public int? HypervisorId { get; init; }

    /// <summary>The console address (the hypervisor's, or a real local VNC server for demos); null when undeployed.</summary>
    public string? VdrpIP { get; init; }

    /// <summary>0 when undeployed, as Abiquo sends it.</summary>
    public int VdrpPort { get; init; }

    /// <summary>VNC password (at most 8 characters), or null when unset.</summary>
    public string? Password { get; init; }

    public int Cpu { get; init; } = 1;
    public int Ram { get; init; } = 512;
    public int VirtualDatacenterId { get; init; }
    public int VirtualApplianceId { get; init; }
}
