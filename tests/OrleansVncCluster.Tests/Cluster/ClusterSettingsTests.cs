using Microsoft.Extensions.Configuration;
using OrleansVncCluster.Relay.Cluster;

namespace OrleansVncCluster.Tests.Cluster;

public sealed class ClusterSettingsTests
{
    private static ClusterSettings From(params (string Key, string Value)[] values) =>
        ClusterSettings.From(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    [Fact]
    public void Defaults_EmbeddedClustering_AndATwoSecondProbeTimeout()
    {
        var settings = From();
        Assert.Null(settings.RedisConnectionString);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.ProbeTimeout);
        Assert.Equal(11111, settings.SiloPort);
    }

    [Fact]
    public void ProbeTimeout_IsRead()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), From(("Orleans:Membership:ProbeTimeout", "00:00:05")).ProbeTimeout);
    }

    [Fact]
    public void MaxProbeTimeout_IsUnsetByDefault_SoTheSiloCapsItAtTheProbeTimeout_AndIsRead()
    {
        Assert.Null(From().MaxProbeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(8), From(("Orleans:Membership:MaxProbeTimeout", "00:00:08")).MaxProbeTimeout);
    }

    [Theory]
    [InlineData("Orleans:Membership:ProbeTimeout", "00:00:00.1", "must be between 00:00:00.5 and 00:01:00")]
    [InlineData("Orleans:Membership:ProbeTimeout", "00:05:00", "must be between 00:00:00.5 and 00:01:00")]
    [InlineData("Orleans:Membership:MaxProbeTimeout", "00:00:01", "must be between Orleans:Membership:ProbeTimeout (00:00:02) and 00:04:00")]
    [InlineData("Orleans:Endpoints:AdvertisedIPAddress", "relay-1", "is not an IP address")]
    [InlineData("Orleans:Endpoints:SiloPort", "70000", "is not a port")]
    public void BadValues_SayWhatToFix(string key, string value, string expected)
    {
        var problem = Assert.Throws<InvalidOperationException>(() => From((key, value)));
        Assert.Contains(expected, problem.Message);
    }
}
