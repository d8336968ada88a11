using FsCheck.Fluent;
using FsCheck;
using Microsoft.AspNetCore.Http;
using OrleansVncCluster.Relay.Admission;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Fuzzing;

/// <summary>Property checks of how a console token is read from the upgrade request (Sessions/Handshake.cs ReadToken).</summary>
public sealed class HandshakeFuzzTests
{
    private const string QueryCharacters = "token=&%?;+ab12\n\r#=";

    private static readonly Gen<string> ValueGen = Fuzz.TextOf("abcdef0123456789-_.~ %+&=;\n\r/").Where(v => v.Length > 0);

    private static readonly Gen<string> CookieValueGen =
        Gen.Elements("abcdefABCDEF0123456789-_.".ToCharArray()).NonEmptyListOf().Select(c => new string([.. c]));

    private static HttpRequest Request(string query, string? cookie = null)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = QueryString.FromUriComponent("?" + query);
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        return context.Request;
    }

    [Fact]
    public void ArbitraryQueryAndCookie_NeverThrow()
    {
        var input = Fuzz.TextOf(QueryCharacters).SelectMany(_ => Fuzz.TextOf("token=;, \"ab"), (query, cookie) => (Query: query, Cookie: cookie));
        Fuzz.Check(input, pair => Handshake.ReadToken(Request(pair.Query, pair.Cookie)), tests: 2000);
    }

    [Fact]
    public void FirstTokenValue_Wins_PercentDecoded_WithoutTrailingNewline()
    {
        var input = ValueGen.ListOf().Where(values => values.Count > 0)
            .SelectMany(_ => Gen.Elements("", "a=1", "path=websockify", "tokens=x"), (values, other) => (Values: values, Other: other));
        Fuzz.Check(input, generated =>
        {
            var parts = generated.Values.Select(v => "token=" + Uri.EscapeDataString(v)).Prepend(generated.Other).Where(p => p.Length > 0);
            var token = Handshake.ReadToken(Request(string.Join('&', parts)));
            Assert.Equal(generated.Values[0].TrimEnd('\n', '\r'), token);
        });
    }

    [Fact]
    public void CookieToken_IsTheFallback_AndTheQueryWins()
    {
        var input = CookieValueGen.SelectMany(_ => CookieValueGen, (cookie, query) => (Cookie: cookie, Query: query))
            .SelectMany(_ => Gen.Elements(true, false), (pair, withQuery) => (pair.Cookie, pair.Query, WithQuery: withQuery));
        Fuzz.Check(input, generated =>
        {
            var request = Request(generated.WithQuery ? $"x=1&token={generated.Query}" : "x=1", $"theme=dark; token={generated.Cookie}; other=2");
            Assert.Equal(generated.WithQuery ? generated.Query : generated.Cookie, Handshake.ReadToken(request));
        }, tests: 500);
    }
}
