using System.Text.Json;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Walks a VM's <c>links</c> array without materialising it: no string is made for an href, a type, a rel or the title of
/// any other link. The result is what the list of link objects gave: rels and property names match ignoring case, the
/// first link of a rel wins (even without a title), the last of duplicate properties wins, unknown properties are skipped,
/// and a value of the wrong type for href, rel, type or title is malformed JSON. A null element is skipped (the list
/// mapping failed on it with a NullReferenceException instead of an <see cref="AbiquoException"/>).
/// </summary>
internal static class AbiquoVmLinksReader
{
    /// <summary>
    /// Reads the links value the reader is at (an array or null) up to its last token; false when the data ends first.
    /// The enterprise link's title is decoded only when <paramref name="wantEnterprise"/> (a page of a listed enterprise
    /// already has its name).
    /// </summary>
    public static bool TryRead(ref Utf8JsonReader reader, bool wantEnterprise, out AbiquoVmLinks links)
    {
        links = default;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"a VM's links are {reader.TokenType} instead of an array");
        }

        string? machine = null;
        string? enterprise = null;
        bool machineSeen = false, enterpriseSeen = false;
        while (true)
        {
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                break;
            }

            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (!TryReadLink(ref reader, out var rel, out var hasTitle, out var titleAt))
            {
                return false;
            }

            if (rel == LinkRel.Machine && !machineSeen)
            {
                machineSeen = true;
                machine = hasTitle ? AbiquoSharedStrings.Read(ref titleAt) : null;
            }
            else if (rel == LinkRel.Enterprise && !enterpriseSeen)
            {
                enterpriseSeen = true;
                enterprise = hasTitle && wantEnterprise ? AbiquoSharedStrings.Read(ref titleAt) : null;
            }
        }

        links = new AbiquoVmLinks(machine, enterprise);
        return true;
    }

    /// <summary>Reads one link object: its rel, and a reader at its title's value when it has a non-null title; false when the data ends first.</summary>
    private static bool TryReadLink(ref Utf8JsonReader reader, out LinkRel rel, out bool hasTitle, out Utf8JsonReader titleAt)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"a VM's link is {reader.TokenType} instead of an object");
        }

        rel = LinkRel.Other;
        hasTitle = false;
        titleAt = default;
        while (true)
        {
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return true;
            }

            var property = PropertyOf(ref reader);
            if (!reader.Read())
            {
                return false;
            }

            if (property == LinkProperty.Other)
            {
                if (!reader.TrySkip())
                {
                    return false;
                }

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
    }

    /// <summary>A link's property names, in <see cref="LinkProperty"/>'s order.</summary>
    private static readonly string[] PropertyNames = ["rel", "title", "href", "type"];

    /// <summary>The rels wanted, in <see cref="LinkRel"/>'s order.</summary>
    private static readonly string[] RelNames = ["machine", "enterprise"];

    private static LinkProperty PropertyOf(ref Utf8JsonReader reader) => (LinkProperty)AbiquoJsonValues.Match(ref reader, PropertyNames);

    private static LinkRel RelOf(ref Utf8JsonReader reader) => (LinkRel)AbiquoJsonValues.Match(ref reader, RelNames);

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
        Href,
        Type,
    }
}
