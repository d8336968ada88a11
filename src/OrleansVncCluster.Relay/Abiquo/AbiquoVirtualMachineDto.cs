using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Abiquo;

internal sealed class AbiquoVirtualMachineDto
{
    public int? Id { get; set; }
    public string? Name { get; set; }
    public string? Label { get; set; }

    [JsonConverter(typeof(AbiquoSharedStringConverter))]
    public string? State { get; set; }
    public string? VdrpIP { get; set; }
    public int? VdrpPort { get; set; }
    public string? Password { get; set; }

    /// <summary>Only the two titles the sync uses: a VM carries several links, and 100,000 VMs' worth of their hrefs,
    /// rels and types as strings were most of what an inventory read allocated.</summary>
    [JsonConverter(typeof(AbiquoVmLinksConverter))]
    public AbiquoVmLinks Links { get; set; }
}
