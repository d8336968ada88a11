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
