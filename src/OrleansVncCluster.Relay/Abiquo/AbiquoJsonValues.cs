using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// The values the client reads of Abiquo's VMs with <see cref="Utf8JsonReader"/>, read as the serializer read them
/// (case-insensitive names, numbers also from strings, JSON null as null), and a value of the wrong type is malformed JSON:
/// a <see cref="JsonException"/>, never the reader's <see cref="InvalidOperationException"/>.
/// </summary>
internal static class AbiquoJsonValues
{
    /// <summary>
    /// Which of <paramref name="names"/> the current string or property name is, ignoring case as
    /// <see cref="StringComparison.OrdinalIgnoreCase"/> compares: 1 for the first, 0 for none (so an enum whose 0 is
    /// "other" takes the names in its order). Plain ASCII (every real name) is compared in place; escaped or non-ASCII
    /// text is decoded once, so that the comparison is exactly the string one.
    /// </summary>
    public static int Match(ref Utf8JsonReader reader, ReadOnlySpan<string> names)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && Ascii.IsValid(reader.ValueSpan))
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (Ascii.EqualsIgnoreCase(reader.ValueSpan, names[i]))
                {
                    return i + 1;
                }
            }

            return 0;
        }

        var longest = 0;
        foreach (var name in names)
        {
            longest = Math.Max(longest, name.Length);
        }

        if ((reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > longest * 6)
        {
            // Longer than any spelling of the names can be (\uXXXX is 6 bytes a character): no match, and no string for it.
            return 0;
        }

        var text = reader.GetString();
        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(text, names[i], StringComparison.OrdinalIgnoreCase))
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>A string or null; <paramref name="what"/> names the value in the error.</summary>
    public static string? String(ref Utf8JsonReader reader, string what) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        _ => throw WrongType(ref reader, what, "a string"),
    };

    /// <summary>A string or null, shared with earlier equal values (<see cref="AbiquoSharedStrings"/>).</summary>
    public static string? SharedString(ref Utf8JsonReader reader, string what) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => AbiquoSharedStrings.Read(ref reader),
        _ => throw WrongType(ref reader, what, "a string"),
    };

    /// <summary>A 32-bit integer, from a number or a string holding one, or null.</summary>
    public static int? Int32(ref Utf8JsonReader reader, string what)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number when reader.TryGetInt32(out var number):
                return number;
            case JsonTokenType.String when !reader.HasValueSequence && !reader.ValueIsEscaped:
                if (Utf8Parser.TryParse(reader.ValueSpan, out int parsed, out var used) && used == reader.ValueSpan.Length)
                {
                    return parsed;
                }

                break;
            case JsonTokenType.String:
                if (int.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var unescaped))
                {
                    return unescaped;
                }

                break;
        }

        throw WrongType(ref reader, what, "a 32-bit integer");
    }

    private static JsonException WrongType(ref Utf8JsonReader reader, string what, string expected) =>
        new($"{what} is {Describe(ref reader)} instead of {expected}");

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => "a string that is not one",
        JsonTokenType.Number => "a number out of range",
        _ => reader.TokenType.ToString(),
    };
}
