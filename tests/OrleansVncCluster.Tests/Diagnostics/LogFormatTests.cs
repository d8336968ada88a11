using OrleansVncCluster.Relay.Diagnostics;
using Serilog.Events;
using Serilog.Parsing;

namespace OrleansVncCluster.Tests.Diagnostics;

public sealed class LogFormatTests
{
    private static readonly Func<string, string?> UnderJournal = name => name == "JOURNAL_STREAM" ? "9:12345" : null;
    private static readonly Func<string, string?> InATerminal = _ => null;

    [Theory]
    [InlineData(LogEventLevel.Fatal, "<2>")]
    [InlineData(LogEventLevel.Error, "<3>")]
    [InlineData(LogEventLevel.Warning, "<4>")]
    [InlineData(LogEventLevel.Information, "<6>")]
    [InlineData(LogEventLevel.Debug, "<7>")]
    public void UnderJournal_EachLineStartsWithItsSyslogSeverity(LogEventLevel level, string prefix)
    {
        var line = Render(LogFormat.Formatter(null, UnderJournal), Event(level, "node started"));

        Assert.Equal($"{prefix}test: node started\n", line);
    }

    [Fact]
    public void UnderJournal_AnExceptionAndAMultiLineMessageStayOneLine()
    {
        var exception = Thrown();

        var line = Render(LogFormat.Formatter(null, UnderJournal), Event(LogEventLevel.Error, "first\nsecond", exception));

        Assert.Single(line.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("<3>test: first second ", line, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: broken", line, StringComparison.Ordinal);
        Assert.Contains(" at OrleansVncCluster.Tests.Diagnostics.LogFormatTests.Thrown", line, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonUnderJournal_KeepsTheSeverityPrefix()
    {
        var line = Render(LogFormat.Formatter("json", UnderJournal), Event(LogEventLevel.Warning, "slow"));

        Assert.StartsWith("<4>{", line, StringComparison.Ordinal);
    }

    [Fact]
    public void InATerminal_TextLinesWithTimeAndLevel_NoPrefix()
    {
        var line = Render(LogFormat.Formatter(null, InATerminal), Event(LogEventLevel.Warning, "slow"));

        Assert.Matches(@"^\[\d\d:\d\d:\d\d WRN\] test: slow", line);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("json")]
    [InlineData("Journal")]
    [InlineData("text")]
    public void KnownFormats_AreAccepted(string? format) => Assert.Null(LogFormat.Problem(format));

    [Fact]
    public void UnknownFormat_SaysWhichValuesWork()
    {
        var problem = LogFormat.Problem("syslog");

        Assert.Equal("Logging:Format 'syslog' is not a log format: use text, json or journal (or leave it unset: journal under systemd, text otherwise)", problem);
    }

    private static LogEvent Event(LogEventLevel level, string text, Exception? exception = null) =>
        new(DateTimeOffset.UtcNow, level, exception, new MessageTemplate(text, [new TextToken(text)]),
            [new LogEventProperty("SourceContext", new ScalarValue("test"))]);

    private static string Render(Serilog.Formatting.ITextFormatter formatter, LogEvent logEvent)
    {
        using var output = new StringWriter();
        formatter.Format(logEvent, output);
        return output.ToString();
    }

    private static Exception Thrown()
    {
        try
        {
            throw new InvalidOperationException("broken");
        }
        catch (InvalidOperationException exception)
        {
            return exception;
        }
    }
}
