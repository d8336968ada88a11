using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.ConsolePage;

namespace OrleansVncCluster.Tests.Console;

public sealed class OriginPolicyTests
{
    private static readonly string[] NoneListed = [];

    [Fact]
    public void MissingOrigin_IsAllowed_BecauseOnlyNonBrowserClientsOmitIt()
    {
        Assert.True(OriginPolicy.IsAllowed(null, "relay.example.com", NoneListed));
        Assert.True(OriginPolicy.IsAllowed("", "relay.example.com", NoneListed));
    }

    [Theory]
    [InlineData("http://127.0.0.1:6080", "127.0.0.1:6080")]
    [InlineData("https://Console.Example.com", "console.example.com")]
    [InlineData("https://console.example.com", "console.example.com:443")]
    [InlineData("http://console.example.com", "console.example.com:80")]
    [InlineData("http://[::1]:6080", "[::1]:6080")]
    [InlineData("https://console.example.com.", "console.example.com")]
    public void OriginOfTheRequestsOwnHost_IsAllowed(string origin, string host) =>
        Assert.True(OriginPolicy.IsAllowed(origin, host, NoneListed));

    [Theory]
    [InlineData("https://evil.example.net", "console.example.com")]
    [InlineData("http://127.0.0.1:6081", "127.0.0.1:6080")]
    [InlineData("https://console.example.com:8443", "console.example.com")]
    [InlineData("https://console.example.com.evil.net", "console.example.com")]
    [InlineData("http://console.example.com", "console.example.com:6080")]
    public void OriginOfAnotherSite_IsRefused(string origin, string host) =>
        Assert.False(OriginPolicy.IsAllowed(origin, host, NoneListed));

    [Fact]
    public void ListedOrigin_IsAllowed_AndAPathAfterItIsIgnored()
    {
        string[] allowed = ["https://abiquo.example.com", "https://console.example.com/ui/"];

        Assert.True(OriginPolicy.IsAllowed("https://abiquo.example.com", "10.0.0.5:6080", allowed));
        Assert.True(OriginPolicy.IsAllowed("https://console.example.com", "10.0.0.5:6080", allowed));
    }

    [Fact]
    public void ListedOrigin_MustMatchSchemeAndPort()
    {
        string[] allowed = ["https://abiquo.example.com"];

        Assert.False(OriginPolicy.IsAllowed("http://abiquo.example.com", "10.0.0.5:6080", allowed));
        Assert.False(OriginPolicy.IsAllowed("https://abiquo.example.com:8443", "10.0.0.5:6080", allowed));
        Assert.True(OriginPolicy.IsAllowed("https://abiquo.example.com:443", "10.0.0.5:6080", allowed));
    }

    [Fact]
    public void SubdomainPattern_AllowsSubdomainsButNotTheDomainItselfOrLookalikes()
    {
        string[] allowed = ["https://*.example.com"];

        Assert.True(OriginPolicy.IsAllowed("https://ui.example.com", "relay:6080", allowed));
        Assert.True(OriginPolicy.IsAllowed("https://a.b.example.com", "relay:6080", allowed));
        Assert.False(OriginPolicy.IsAllowed("https://example.com", "relay:6080", allowed));
        Assert.False(OriginPolicy.IsAllowed("https://evilexample.com", "relay:6080", allowed));
    }

    [Fact]
    public void Star_AllowsEveryOrigin()
    {
        Assert.True(OriginPolicy.IsAllowed("https://anything.example.net", "relay:6080", ["*"]));
        Assert.True(OriginPolicy.IsAllowed("null", "relay:6080", ["*"]));
    }

    [Fact]
    public void OpaqueNullOrigin_IsRefusedUnlessListed()
    {
        Assert.False(OriginPolicy.IsAllowed("null", "relay:6080", NoneListed));
        Assert.True(OriginPolicy.IsAllowed("null", "relay:6080", ["null"]));
    }

    [Theory]
    [InlineData("not an origin")]
    [InlineData("ftp://console.example.com")]
    [InlineData("https://user@console.example.com")]
    [InlineData("https://")]
    [InlineData("https://console.example.com:99999")]
    [InlineData("https://::1")]
    public void MalformedOrigin_IsRefused(string origin) =>
        Assert.False(OriginPolicy.IsAllowed(origin, "console.example.com", ["https://abiquo.example.com"]));

    [Fact]
    public void MalformedAllowListEntries_AreIgnored()
    {
        string[] allowed = ["", "   ", "abiquo.example.com", "https://abiquo.example.com"];

        Assert.True(OriginPolicy.IsAllowed("https://abiquo.example.com", "relay:6080", allowed));
        Assert.False(OriginPolicy.IsAllowed("https://other.example.com", "relay:6080", allowed));
    }

    [Fact]
    public void EmptyRequestHost_AllowsOnlyListedOrigins()
    {
        Assert.False(OriginPolicy.IsAllowed("https://console.example.com", "", NoneListed));
        Assert.True(OriginPolicy.IsAllowed("https://console.example.com", "", ["https://console.example.com"]));
    }
}
