using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Walks a VM's <c>links</c> array without materialising it: no string is made for an href, a type, a rel or the title of
/// any other link. The result is what the list of link objects gave: rels and property names match ignoring case, the
/// first link of a rel wins (even without a title), the last of duplicate properties wins, unknown properties are skipped,
/// and a value of the wrong type for href, rel, type or title is malformed JSON. A null element is skipped (the list
/// mapping failed on it with a NullReferenceException instead of an <see cref="AbiquoException"/>).
/// </summary>
internal sealed class AbiquoVmLinksConverter : JsonConverter<AbiquoVmLinks>
{
    public override bool HandleNull => true;

    public override AbiquoVmLinks Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return default;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"a VM's links are {reader.TokenType} instead of an array");
        }

        string? machine = null;
        string? enterprise = null;
        bool machineSeen = false, enterpriseSeen = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            var rel = ReadLink(ref reader, out var hasTitle, out var titleAt);
            if (rel == LinkRel.Machine && !machineSeen)
            {
                machineSeen = true;
                machine = hasTitle ? AbiquoSharedStrings.Read(ref titleAt) : null;
            }
            else if (rel == LinkRel.Enterprise && !enterpriseSeen)
            {
                enterpriseSeen = true;
                enterprise = hasTitle ? AbiquoSharedStrings.Read(ref titleAt) : null;
            }
        }

        return new AbiquoVmLinks(machine, enterprise);
    }

    public override void Write(Utf8JsonWriter writer, AbiquoVmLinks value, JsonSerializerOptions options) =>
        throw new NotSupportedException("the client only reads Abiquo's JSON");

    /// <summary>Reads one link object; returns its rel, and a reader at its title's value when it has a non-null title.</summary>
    private static LinkRel ReadLink(ref Utf8JsonReader reader, out bool hasTitle, out Utf8JsonReader titleAt)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"a VM's link is {reader.TokenType} instead of an object");
        }

        var rel = LinkRel.Other;
        hasTitle = false;
        titleAt = default;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = PropertyOf(ref reader);
            reader.Read();
            if (property == LinkProperty.Other)
            {
                reader.Skip();
                continue;
            }

            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
            {
                throw new JsonException($"a VM's link has {reader.TokenType} where a string belongs");
            }

            if (property == LinkProperty.Rel)
            {
                rel = reader.TokenType == JsonTokenType.Null ? LinkRel.Other : RelOf(ref reader);
            }
            else if (property == LinkProperty.Title)
            {
                // The rel may come after the title: keep the place (a reader is a struct) and read it only if it is wanted.
                hasTitle = reader.TokenType != JsonTokenType.Null;
                titleAt = reader;
            }
        }

        return rel;
    }

    private static LinkProperty PropertyOf(ref Utf8JsonReader reader) =>
        NameIs(ref reader, "rel"u8, "rel") ? LinkProperty.Rel
        : NameIs(ref reader, "title"u8, "title") ? LinkProperty.Title
        : NameIs(ref reader, "href"u8, "href") || NameIs(ref reader, "type"u8, "type") ? LinkProperty.Typed
        : LinkProperty.Other;

    private static LinkRel RelOf(ref Utf8JsonReader reader) =>
        NameIs(ref reader, "machine"u8, "machine") ? LinkRel.Machine
        : NameIs(ref reader, "enterprise"u8, "enterprise") ? LinkRel.Enterprise
        : LinkRel.Other;

    /// <summary>
    /// The current string or property name equals <paramref name="text"/> ignoring case, as <see cref="StringComparison.OrdinalIgnoreCase"/>
    /// compares it. Plain ASCII (every real rel and name) is compared in place; escaped or non-ASCII text is decoded first,
    /// so that the comparison is exactly the string one.
    /// </summary>
    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string text)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && Ascii.IsValid(reader.ValueSpan))
        {
            return Ascii.EqualsIgnoreCase(reader.ValueSpan, utf8);
        }

        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > text.Length * 6)
        {
            // Longer than any spelling of the name can be (\uXXXX is 6 bytes a character): no match, and no string for it.
            return false;
        }

        return string.Equals(reader.GetString(), text, StringComparison.OrdinalIgnoreCase);
    }

    private enum LinkRel
    {
        Other,
        Machine,
        Enterprise,
    }

    private enum LinkProperty
    {
        Other,
        Rel,
        Title,
        Typed,
    }
}
