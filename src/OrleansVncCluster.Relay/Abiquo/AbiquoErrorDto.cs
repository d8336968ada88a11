namespace OrleansVncCluster.Relay.Abiquo;

internal sealed class AbiquoErrorDto
{
    public string? Code { get; set; }
    public string? Message { get; set; }
}
