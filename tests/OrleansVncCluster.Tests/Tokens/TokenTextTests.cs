using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

public sealed class TokenTextTests
{
    [Theory]
    [InlineData("10.60.1.79", 5901, "2e843805d056a266227cbb6b699a7ee0")]
    [InlineData("10.60.1.79", 5902, "01c1e7885b7dddcbd4815db0fb484cd5")]
    public void Md5Token_MatchesTheAbiquoExamples(string host, int port, string expected) =>
        Assert.Equal(expected, TokenText.Md5Token(host, port));

    [Theory]
    [InlineData("2e843805d056a266227cbb6b699a7ee0", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("new\nline", false)]
    [InlineData("ünïcode", false)]
    public void IsWellFormed_AcceptsPrintableAsciiOnly(string token, bool expected) =>
        Assert.Equal(expected, TokenText.IsWellFormed(token));

    [Fact]
    public void IsWellFormed_RefusesOverlongTokens() =>
        Assert.False(TokenText.IsWellFormed(new string('a', TokenText.MaxLength + 1)));

    [Theory]
    [InlineData("2e843805d056a266227cbb6b699a7ee0", "2e843805…")]
    [InlineData("short", "sh…")]
    [InlineData(null, "(none)")]
    public void ForLog_NeverShowsAWholeToken(string? token, string expected) =>
        Assert.Equal(expected, TokenText.ForLog(token));

    [Fact]
    public void EntryToString_HidesThePassword()
    {
        var entry = new ConsoleTokenEntry { Target = ConsoleTarget.Tcp("h", 1), Source = "test", Password = "tir74bnd" };
        Assert.DoesNotContain("tir74bnd", entry.ToString(), StringComparison.Ordinal);
    }
}
