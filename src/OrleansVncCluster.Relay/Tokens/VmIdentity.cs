namespace OrleansVncCluster.Relay.Tokens;

/// <summary>Who the console belongs to, as far as the token's source knows.</summary>
[GenerateSerializer, Immutable, Alias("vnc.VmIdentity")]
public sealed record VmIdentity
{
    /// <summary>The VM's id at its source (Abiquo's numeric id as text).</summary>
    [Id(0)] public string? Id { get; init; }

    /// <summary>The VM's internal name (Abiquo: ABQ_uuid).</summary>
    [Id(1)] public string? Name { get; init; }

    /// <summary>The name users see.</summary>
    [Id(2)] public string? Label { get; init; }

    /// <summary>The tenant that owns the VM.</summary>
    [Id(3)] public string? Enterprise { get; init; }

    /// <summary>The hypervisor that runs it.</summary>
    [Id(4)] public string? Hypervisor { get; init; }
}
