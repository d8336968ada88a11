namespace OrleansVncCluster.Relay.Abiquo;

internal sealed class AbiquoCollectionDto<T>
{
    public List<AbiquoLinkDto>? Links { get; set; }
    public List<T>? Collection { get; set; }
}
