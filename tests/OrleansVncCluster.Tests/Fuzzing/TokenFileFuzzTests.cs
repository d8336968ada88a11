using FsCheck.Fluent;
using FsCheck;
using OrleansVncCluster.Relay.Sources;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Tests.Fuzzing;

/// <summary>Property checks of websockify's token file grammar (Tokens/TokenFile.cs).</summary>
public sealed class TokenFileFuzzTests
{
    private static readonly Gen<string> TokenGen =
        Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.".ToCharArray()).NonEmptyListOf().Select(c => new string([.. c]));

    private static readonly Gen<string> HostGen = Gen.OneOf(
        Gen.Choose(0, 255).Four().Select(a => $"{a.Item1}.{a.Item2}.{a.Item3}.{a.Item4}"),
        Gen.Elements("::1", "fe80::1", "[::1]", "2001:db8::5900", "vnc-host", "hv-01.example.com", "localhost"));

    private static readonly Gen<ConsoleTarget> TargetGen = Gen.Frequency(
        (9, HostGen.SelectMany(_ => Gen.Choose(1, 65535), (host, port) => ConsoleTarget.Tcp(host, port))),
        (1, Gen.Elements("/run/vnc/a.sock", "/tmp/x y.sock", "relative.sock").Select(ConsoleTarget.Unix)));

    private static readonly Gen<string> CommentGen = Fuzz.TextOf("abc :#\t").Select(text => "#" + text.Replace('\n', ' ').Replace('\r', ' '));

    private static readonly Gen<string> SeparatorGen = Gen.Elements(" ", "\t", "  ", " \t");

    [Fact]
    public void ArbitraryText_NeverThrows_AndYieldsOnlyUsableTargets()
    {
        Fuzz.Check(Fuzz.TextOf("tok: 1.2.3.4:5900\n\r\t#[]:unix_socket:/"), text =>
        {
            var tokens = new Dictionary<string, ConsoleTarget>();
            var errors = new List<TokenFileError>();
            TokenFile.Parse("fuzz.cfg", text, tokens, errors);
            var lines = text.Split('\n').Length;
            Assert.All(tokens.Values, target => Assert.True(target.UnixSocket is { Length: > 0 } || (target.Host.Length > 0 && target.Port is >= 1 and <= 65535)));
            Assert.All(errors, error => Assert.InRange(error.Line, 1, lines));
        }, tests: 2000);
    }

    [Fact]
    public void RenderedEntries_ParseBackToTheSameTable_WithCommentsAndBlankLinesIgnored()
    {
        var entry = TokenGen.SelectMany(_ => TargetGen, (token, target) => (Token: token, Target: target))
            .SelectMany(_ => SeparatorGen, (e, separator) => (e.Token, e.Target, Separator: separator));
        var line = Gen.Frequency(
            (6, entry.Select(e => (Entry: ((string, ConsoleTarget)?)(e.Token, e.Target), Text: $"{e.Token}:{e.Separator}{e.Target}"))),
            (1, CommentGen.Select(c => (Entry: ((string, ConsoleTarget)?)null, Text: c))),
            (1, Gen.Elements("", "   ", "\t", "\r").Select(blank => (Entry: ((string, ConsoleTarget)?)null, Text: blank))));
        var file = line.ListOf().SelectMany(_ => Gen.Elements("\n", "\r\n"), (lines, newline) => (Lines: lines, Newline: newline));

        Fuzz.Check(file, generated =>
        {
            var expected = new Dictionary<string, ConsoleTarget>(StringComparer.Ordinal);
            foreach (var (entryValue, _) in generated.Lines)
            {
                if (entryValue is var (token, target))
                {
                    expected[token] = target; // later duplicates win
                }
            }

            var text = string.Join(generated.Newline, generated.Lines.Select(l => l.Text));
            var tokens = new Dictionary<string, ConsoleTarget>();
            var errors = new List<TokenFileError>();
            TokenFile.Parse("fuzz.cfg", text, tokens, errors);
            Assert.Empty(errors);
            Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), tokens.OrderBy(e => e.Key, StringComparer.Ordinal));
        });
    }
}
