using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace OrleansVncCluster.Relay.Diagnostics;

/// <summary>
/// How the node writes its log lines (<c>Logging:Format</c>): <c>text</c> for a terminal, <c>json</c> for log shippers,
/// <c>journal</c> for systemd's journal. Unset, the node picks <c>journal</c> when journald reads its output
/// (systemd sets <c>JOURNAL_STREAM</c> for a unit with <c>StandardOutput=journal</c>, the default) and <c>text</c> otherwise.
/// </summary>
public static class LogFormat
{
    /// <summary>The configuration key.</summary>
    public const string Key = "Logging:Format";

    /// <summary>The values <see cref="Key"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["text", "json", "journal"];

    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    // journald stamps every entry with its own time, host and unit: the line carries only what it cannot know.
    private const string JournalTemplate = "{SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>A problem with <paramref name="format"/> that says what to fix, or null when it is fine.</summary>
    public static string? Problem(string? format) =>
        string.IsNullOrEmpty(format) || Names.Contains(format, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"{Key} '{format}' is not a log format: use text, json or journal (or leave it unset: journal under systemd, text otherwise)";

    /// <summary>The formatter for <paramref name="format"/> (unset: chosen from <paramref name="environment"/>).</summary>
    public static ITextFormatter Formatter(string? format, Func<string, string?> environment)
    {
        var underJournal = !string.IsNullOrEmpty(environment("JOURNAL_STREAM"));
        var name = string.IsNullOrEmpty(format) ? (underJournal ? "journal" : "text") : format.ToLowerInvariant();
        ITextFormatter inner = name switch
        {
            "json" => new RenderedCompactJsonFormatter(),
            "journal" => new MessageTemplateTextFormatter(JournalTemplate, CultureInfo.InvariantCulture),
            _ => new MessageTemplateTextFormatter(TextTemplate, CultureInfo.InvariantCulture),
        };

        // Whatever the format, journald must get the severity and one line per event when it is the reader.
        return underJournal || name == "journal" ? new JournalLineFormatter(inner) : inner;
    }

    /// <summary>The formatter for this process's environment.</summary>
    public static ITextFormatter Formatter(string? format) => Formatter(format, Environment.GetEnvironmentVariable);
}

/// <summary>
/// One journal entry per event: the sd-daemon severity prefix (<c>&lt;4&gt;</c> for a warning, sd-daemon(3)), which
/// journald turns into the entry's PRIORITY so <c>journalctl -p warning</c> filters, and every line break of the
/// event (a multi-line message, an exception's stack trace) folded into a space, because journald starts a new entry,
/// with the default priority, at each newline of a stream. Microsoft's SystemdConsoleFormatter, which
/// <c>UseSystemd()</c> installs and Serilog replaces, does the same.
/// </summary>
public sealed class JournalLineFormatter(ITextFormatter inner) : ITextFormatter
{
    /// <summary>The syslog severity of a Serilog level (RFC 5424 section 6.2.1).</summary>
    public static int Severity(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => 2,
        LogEventLevel.Error => 3,
        LogEventLevel.Warning => 4,
        LogEventLevel.Information => 6,
        _ => 7,
    };

    /// <inheritdoc />
    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        using var buffer = new StringWriter(CultureInfo.InvariantCulture);
        inner.Format(logEvent, buffer);
        var text = buffer.ToString().AsSpan().TrimEnd("\r\n");
        output.Write('<');
        output.Write(Severity(logEvent.Level).ToString(CultureInfo.InvariantCulture));
        output.Write('>');
        foreach (var c in text)
        {
            output.Write(c is '\n' or '\r' ? ' ' : c);
        }

        output.Write('\n');
    }
}
