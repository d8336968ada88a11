using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Abiquo;

// What the client reads of Abiquo's JSON, written from the API reference and matched case-insensitively (a public
// fixture spells vdrpIp); anything else in the documents is ignored.

internal sealed class AbiquoLinkDto
{
    public string? Href { get; set; }
    public string? Rel { get; set; }
    public string? Type { get; set; }
    public string? Title { get; set; }
}

internal sealed class AbiquoCollectionDto<T>
{
    public List<AbiquoLinkDto>? Links { get; set; }
    public List<T>? Collection { get; set; }
}

internal sealed class AbiquoEnterpriseDto
{
    public int? Id { get; set; }
    public string? Name { get; set; }
    public List<AbiquoLinkDto>? Links { get; set; }
}

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

internal sealed class AbiquoErrorDto
{
    public string? Code { get; set; }
    public string? Message { get; set; }
}

internal sealed class AbiquoUserDto
{
    public string? Nick { get; set; }
    public string? Name { get; set; }
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(AbiquoCollectionDto<AbiquoEnterpriseDto>))]
[JsonSerializable(typeof(AbiquoCollectionDto<AbiquoVirtualMachineDto>))]
[JsonSerializable(typeof(AbiquoCollectionDto<AbiquoErrorDto>))]
[JsonSerializable(typeof(AbiquoUserDto))]
internal sealed partial class AbiquoJsonContext : JsonSerializerContext;
