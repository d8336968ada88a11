using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Tokens;

/// <summary>websockify's token-file grammar, case by case (reference: websockify-compat.md).</summary>
public sealed class TokenFileTests
{
    private static (Dictionary<string, ConsoleTarget> Tokens, List<TokenFileError> Errors) Parse(string text)
    {
        var tokens = new Dictionary<string, ConsoleTarget>();
        var errors = new List<TokenFileError>();
        TokenFile.Parse("test.cfg", text, tokens, errors);
        return (tokens, errors);
    }

    [Fact]
    public void AbiquoLine_MapsTokenToHostAndPort()
    {
        var (tokens, errors) = Parse("2e843805d056a266227cbb6b699a7ee0: 10.60.1.79:5901\n");
        Assert.Empty(errors);
        Assert.Equal(ConsoleTarget.Tcp("10.60.1.79", 5901), tokens["2e843805d056a266227cbb6b699a7ee0"]);
    }

    [Fact]
    public void CommentsAndBlankLines_AreSkipped()
    {
        var (tokens, errors) = Parse("# a comment: 1.2.3.4:5\n\n   \nok: 1.2.3.4:5900\n");
        Assert.Empty(errors);
        Assert.Single(tokens);
    }

    [Fact]
    public void TabAfterColon_SplitsLikeASpace()
    {
        var (tokens, _) = Parse("tok:\t127.0.0.1:5901");
        Assert.Equal(5901, tokens["tok"].Port);
    }

    [Fact]
    public void Ipv6Target_SplitsAtTheLastColon()
    {
        var (tokens, _) = Parse("v6: ::1:5900\nbr: [::1]:5901");
        Assert.Equal(ConsoleTarget.Tcp("::1", 5900), tokens["v6"]);
        Assert.Equal(ConsoleTarget.Tcp("[::1]", 5901), tokens["br"]);
    }

    [Fact]
    public void UnixSocketTarget_NamesTheSocketPath()
    {
        var (tokens, _) = Parse("sock: unix_socket:/run/vnc/vm1.sock");
        Assert.Equal("/run/vnc/vm1.sock", tokens["sock"].UnixSocket);
    }

    [Theory]
    [InlineData("no-separator-here")]
    [InlineData("a: b: 1.2.3.4:5900")]
    [InlineData("tok:1.2.3.4:5900")]
    [InlineData("tok: 1.2.3.4")]
    [InlineData("tok: 1.2.3.4:notaport")]
    [InlineData("tok: 1.2.3.4:70000")]
    public void MalformedLine_IsReportedWithItsLineNumberAndSkipped(string line)
    {
        var (tokens, errors) = Parse($"good: 1.1.1.1:5900\n{line}\n");
        Assert.Single(tokens);
        var error = Assert.Single(errors);
        Assert.Equal(2, error.Line);
        Assert.Equal("test.cfg", error.File);
    }

    [Fact]
    public void LaterDuplicate_Wins()
    {
        var (tokens, _) = Parse("t: 1.1.1.1:1\nt: 2.2.2.2:2");
        Assert.Equal(ConsoleTarget.Tcp("2.2.2.2", 2), tokens["t"]);
    }

    [Fact]
    public void Directory_LoadsEveryRegularFileInside()
    {
        var directory = Directory.CreateTempSubdirectory("tokens").FullName;
        File.WriteAllText(Path.Combine(directory, "a.cfg"), "a: 1.1.1.1:5900\n");
        File.WriteAllText(Path.Combine(directory, "b.cfg"), "b: 2.2.2.2:5900\n");
        Directory.CreateDirectory(Path.Combine(directory, "nested"));
        File.WriteAllText(Path.Combine(directory, "nested", "c.cfg"), "c: 3.3.3.3:5900\n");

        var content = TokenFile.Load(directory);

        Assert.Equal(["a", "b"], content.Tokens.Keys.Order());
    }
}
