using System.Collections.Concurrent;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// One string for each short value that 100,000 VMs repeat (a state, a hypervisor's or an enterprise's name): a value
/// seen before is decoded onto the stack and looked up, not allocated again, and the tokens built from the VMs share it.
/// Bounded, so a cloud with ever new names costs at most <see cref="MaxEntries"/> strings of <see cref="MaxLength"/> characters.
/// </summary>
internal static class AbiquoSharedStrings
{
    /// <summary>Longer values (in UTF-8 bytes) are read as ordinary strings: names that long are rarely shared.</summary>
    public const int MaxLength = 128;

    /// <summary>Distinct values kept; later new ones are read as ordinary strings.</summary>
    public const int MaxEntries = 16_384;

    private static readonly ConcurrentDictionary<string, string> Cache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        Cache.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Entries added, counted here because <see cref="ConcurrentDictionary{TKey, TValue}.Count"/> takes every one of the
    /// dictionary's locks: asked on every value not found, it made reading 1,000,000 VMs cost 17 times the CPU of
    /// 100,000 once the table was full (docs/benchmarks.md, "Sync of 1,000,000 VMs").
    /// </summary>
    private static int _entries;

    /// <summary>The current string token's value (null for a JSON null), shared with earlier equal values.</summary>
    public static string? Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (reader.TokenType != JsonTokenType.String || length > MaxLength)
        {
            return reader.GetString();
        }

        // Never more characters than UTF-8 bytes: an escape is longer than what it stands for.
        Span<char> chars = stackalloc char[MaxLength];
        var value = chars[..reader.CopyString(chars)];
        if (Lookup.TryGetValue(value, out var shared))
        {
            return shared;
        }

        var text = new string(value);
        if (Volatile.Read(ref _entries) >= MaxEntries)
        {
            return text;
        }

        if (Cache.TryAdd(text, text))
        {
            Interlocked.Increment(ref _entries);
            return text;
        }

        // Another reader added it meanwhile: share that one.
        return Cache.TryGetValue(text, out var added) ? added : text;
    }
}
