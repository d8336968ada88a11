using Microsoft.AspNetCore.Http;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Sessions;

public sealed class HandshakeTests
{
    [Theory]
    [InlineData(new[] { "binary" }, "binary")]
    [InlineData(new[] { "base64, binary" }, "binary")]
    [InlineData(new[] { " binary " }, "binary")]
    [InlineData(new[] { "base64", "binary" }, "binary")]
    [InlineData(new[] { "base64" }, null)]
    [InlineData(new string[0], null)]
    [InlineData(new[] { "Binary" }, null)]
    public void ChooseSubprotocol_AnswersBinaryOnlyWhenOffered(string[] offered, string? expected) =>
        Assert.Equal(expected, Handshake.ChooseSubprotocol(offered));

    [Theory]
    [InlineData("?token=abc", null, "abc")]
    [InlineData("?token=first&token=second", null, "first")]
    [InlineData("?token=a%2Fb%0A", null, "a/b")]
    [InlineData("", "token=fromcookie", "fromcookie")]
    [InlineData("?token=query", "token=cookie", "query")]
    [InlineData("", null, null)]
    public void ReadToken_PrefersTheFirstQueryValueThenTheCookie(string query, string? cookie, string? expected)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        Assert.Equal(expected, Handshake.ReadToken(context.Request));
    }

    [Theory]
    [InlineData("6080", "0.0.0.0:6080")]
    [InlineData("127.0.0.1:6080", "127.0.0.1:6080")]
    [InlineData("[::]:6080", "[::]:6080")]
    [InlineData("*:41337", "0.0.0.0:41337")]
    [InlineData("localhost:80", "127.0.0.1:80")]
    public void ListenAddress_ParsesTheFormsOperatorsWrite(string text, string expected)
    {
        Assert.True(ListenAddress.TryParse(text, out var endpoint, out var error), error);
        Assert.Equal(expected, endpoint.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("host.example:80")]
    [InlineData("1.2.3.4:99999")]
    public void ListenAddress_ExplainsWhatIsWrong(string text)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out var error));
        Assert.Contains("e.g.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void RelayOptionsValidator_NamesEveryProblem()
    {
        var options = new RelayOptions { Listen = "nope", Path = "websockify", MaxMessageBytes = 10, CertificateFile = "/missing.pem" };
        var result = new RelayOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Relay:Listen", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Relay:Path", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Relay:MaxMessageBytes", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Relay:CertificateFile", StringComparison.Ordinal));
    }
}
