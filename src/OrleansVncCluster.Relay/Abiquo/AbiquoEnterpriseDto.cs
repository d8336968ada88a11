namespace OrleansVncCluster.Relay.Abiquo;

internal sealed class AbiquoEnterpriseDto
{
    public int? Id { get; set; }
    public string? Name { get; set; }
    public List<AbiquoLinkDto>? Links { get; set; }
}
