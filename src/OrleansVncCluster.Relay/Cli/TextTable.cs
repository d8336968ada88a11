using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Cli;

/// <summary>Plain-text tables and the value formats the admin commands print (fixed columns, one row a line, <c>-</c> for a missing value).</summary>
internal static class TextTable
{
    /// <summary>Columns padded to their widest cell, two spaces apart; the last column is not padded.</summary>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, column) => all.Max(row => column < row.Count ? row[column].Length : 0)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            for (var column = 0; column < headers.Count; column++)
            {
                var cell = column < row.Count ? row[column] : "-";
                text.Append(column == headers.Count - 1 ? cell : cell.PadRight(widths[column] + 2));
            }

            text.Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }

    /// <summary>A string, number or boolean property as text; <c>-</c> when missing or null.</summary>
    public static string Text(JsonElement element, params string[] path)
    {
        if (Find(element, path) is not { } value)
        {
            return "-";
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : "-",
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => "-",
        };
    }

    /// <summary>A numeric property, or null when missing or not a number.</summary>
    public static long? Number(JsonElement element, params string[] path) =>
        Find(element, path) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var number) ? number : null;

    /// <summary>A time property, or null when missing or not a time.</summary>
    public static DateTimeOffset? Time(JsonElement element, params string[] path) =>
        Find(element, path) is { ValueKind: JsonValueKind.String } value && value.TryGetDateTimeOffset(out var time) ? time : null;

    /// <summary>The element at <paramref name="path"/>, or null when any step is missing or null.</summary>
    public static JsonElement? Find(JsonElement element, params string[] path)
    {
        var current = element;
        foreach (var name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : current;
    }

    /// <summary>Bytes in binary units: <c>512 B</c>, <c>1.5 KiB</c>, <c>3.2 MiB</c>; <c>-</c> for null.</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
        {
            return "-";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double scaled = value;
        var unit = 0;
        while (scaled >= 1024 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{value} B") : string.Create(CultureInfo.InvariantCulture, $"{scaled:0.#} {units[unit]}");
    }

    /// <summary>A duration the way an operator reads it: <c>45s</c>, <c>12m05s</c>, <c>3h20m</c>, <c>2d04h</c>.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        return duration.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalDays}d{duration.Hours:00}h")
            : duration.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}h{duration.Minutes:00}m")
            : duration.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalSeconds}s");
    }

    /// <summary>A UTC time to the second (<c>2026-05-01 14:03:07Z</c>); <c>-</c> for null.</summary>
    public static string Stamp(DateTimeOffset? time) =>
        time is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "-";
}
