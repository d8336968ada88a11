using Microsoft.Extensions.Configuration;
using OrleansVncCluster.Relay.Sources;

namespace OrleansVncCluster.Tests.Sync;

public sealed class TokenSourceSummaryTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void FilesAndAbiquo_AreBothNamed()
    {
        var text = TokenSourceSummary.Describe(Settings(("Tokens:Files:0", "/etc/vnc-relay/tokens.cfg"),
            ("Abiquo:ApiUrl", "https://abiquo.example/api"), ("Abiquo:User", "sync"), ("Abiquo:SyncInterval", "00:01:00")));

        Assert.Equal("token files /etc/vnc-relay/tokens.cfg; Abiquo sync from https://abiquo.example/api as sync every 00:01:00", text);
    }

    [Fact]
    public void NoSource_SaysEveryConsoleIsRefused()
    {
        var text = TokenSourceSummary.Describe(Settings());

        Assert.StartsWith("none: every console is refused (4404)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AbiquoKeysWithoutApiUrl_WarnNamingMisspeltKeysButNoValue()
    {
        var warning = TokenSourceSummary.AbiquoWithoutApiUrl(Settings(("Abiquo:Url", "https://cloud.internal.test/api"),
            ("Abiquo:User", "sync"), ("Abiquo:Password", "very-secret-password")));

        Assert.NotNull(warning);
        Assert.Contains("Abiquo:ApiUrl is not: the Abiquo token sync is OFF", warning, StringComparison.Ordinal);
        Assert.Contains("not Abiquo settings (misspelt?): Abiquo:Url", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-password", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("cloud.internal.test", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void ApiUrlSet_OrNoAbiquoKeys_NoWarning()
    {
        Assert.Null(TokenSourceSummary.AbiquoWithoutApiUrl(Settings(("Abiquo:ApiUrl", "https://abiquo.example/api"), ("Abiquo:User", "sync"))));
        Assert.Null(TokenSourceSummary.AbiquoWithoutApiUrl(Settings(("Tokens:Files:0", "/x"))));
    }
}
