namespace OrleansVncCluster.Relay.Abiquo;

internal sealed class AbiquoUserDto
{
    public string? Nick { get; set; }
    public string? Name { get; set; }
}
