using System.Buffers;
using System.Text.Json;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>
/// Reads one page of an enterprise's VM list (<c>{"links": [...], "collection": [VM, ...]}</c>) as it streams in,
/// straight into <see cref="AbiquoVirtualMachine"/> records with <see cref="Utf8JsonReader"/>: no object per VM besides
/// the record, and only the properties the sync uses are decoded. The serializer, with a DTO per VM, took 3.0-3.1 µs a VM
/// on this machine; this reader 1.9-2.4 µs, with a third less allocated (docs/benchmarks.md). Parsing is the largest
/// share of a 1,000,000-VM sync's load.
/// </summary>
/// <remarks>
/// The body is read into one pooled buffer and parsed a whole value at a time: a VM whose end is not yet in the buffer
/// is dropped and parsed again from its start once more has arrived, so the parse never waits and never resumes
/// half-way. The buffer holds at most one such value besides what is still to parse, and grows to
/// <see cref="MaxValueBytes"/> at most: a bigger VM is not Abiquo's.
/// Names match ignoring case, the last of duplicate properties wins, numbers are read from strings too, and unknown
/// properties are skipped, as the serializer's options said (<see cref="AbiquoJsonContext"/>); anything malformed is a
/// <see cref="JsonException"/>.
/// </remarks>
internal sealed class AbiquoVmPageReader
{
    /// <summary>The largest single VM, or other property of a page, that is read.</summary>
    internal const int MaxValueBytes = 4 * 1024 * 1024;

    private const int FirstBufferBytes = 64 * 1024;

    private readonly string? _enterprise;
    private readonly List<AbiquoVirtualMachine> _vms = [];
    private List<AbiquoLinkDto>? _links;
    private Stage _stage;
    private bool _collectionSeen;
    private bool _isNull;

    private AbiquoVmPageReader(string? enterprise) => _enterprise = enterprise;

    /// <summary>
    /// Reads a page to its end. Each VM's enterprise is <paramref name="enterprise"/> (the listed enterprise's name), or
    /// the title of its own enterprise link when that is null. Null when the body is JSON null.
    /// </summary>
    public static async Task<AbiquoCollectionDto<AbiquoVirtualMachine>?> ReadAsync(Stream stream, string? enterprise, CancellationToken cancellationToken)
    {
        var page = new AbiquoVmPageReader(enterprise);
        var buffer = ArrayPool<byte>.Shared.Rent(FirstBufferBytes);
        var (start, end, final) = (0, 0, false);
        var state = default(JsonReaderState);
        try
        {
            while (true)
            {
                if (end - start == buffer.Length)
                {
                    buffer = Grow(buffer, start, end);
                    (start, end) = (0, end - start);
                }
                else if (end == buffer.Length)
                {
                    // What is left is at most one value that did not fit; moving it down makes room for its end.
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    (start, end) = (0, end - start);
                }

                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                final = read == 0;
                end += read;
                start += page.Advance(buffer.AsSpan(start, end - start), final, ref state);
                if (page._stage == Stage.Done)
                {
                    return page._isNull ? null : new AbiquoCollectionDto<AbiquoVirtualMachine> { Links = page._links, Collection = page._vms };
                }

                if (final)
                {
                    throw new JsonException("the page ends before its JSON does");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A buffer twice as big with the unparsed bytes at its start; the old one goes back to the pool.</summary>
    private static byte[] Grow(byte[] buffer, int start, int end)
    {
        if (buffer.Length >= MaxValueBytes)
        {
            throw new JsonException($"a single value in the page is over {MaxValueBytes / (1024 * 1024)} MiB: no VM of Abiquo's is that big");
        }

        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        buffer.AsSpan(start, end - start).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    /// <summary>Parses every whole step in <paramref name="data"/>; returns the bytes used, and leaves <paramref name="state"/> after them.</summary>
    private int Advance(ReadOnlySpan<byte> data, bool final, ref JsonReaderState state)
    {
        var reader = new Utf8JsonReader(data, final, state);
        var used = 0;
        try
        {
            while (_stage != Stage.Done && Step(ref reader, final))
            {
                (used, state) = ((int)reader.BytesConsumed, reader.CurrentState);
            }
        }
        catch (InvalidOperationException exception)
        {
            // The reader's own complaint about text it cannot decode (invalid UTF-8 in a string, say).
            throw new JsonException(exception.Message, exception);
        }

        return used;
    }

    /// <summary>One whole step: true when it was taken; false when the data ends first, and then nothing of it was kept.</summary>
    private bool Step(ref Utf8JsonReader reader, bool final)
    {
        switch (_stage)
        {
            case Stage.Start:
                if (!reader.Read())
                {
                    return false;
                }

                (_stage, _isNull) = reader.TokenType switch
                {
                    JsonTokenType.StartObject => (Stage.Page, false),
                    JsonTokenType.Null => (Stage.End, true),
                    _ => throw new JsonException($"the page is {reader.TokenType} instead of an object"),
                };
                return true;

            case Stage.Page:
                return reader.Read() && (reader.TokenType == JsonTokenType.EndObject ? Then(Stage.End) : PageProperty(ref reader));

            case Stage.Collection:
                if (!reader.Read())
                {
                    return false;
                }

                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    return Then(Stage.Page);
                }

                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new JsonException($"the collection holds {reader.TokenType} where a VM belongs");
                }

                if (!TryReadVm(ref reader, out var vm))
                {
                    return false;
                }

                _vms.Add(vm);
                return true;

            case Stage.End:
                if (reader.Read())
                {
                    throw new JsonException($"the page's JSON is followed by {reader.TokenType}");
                }

                // Only white space so far: the page is done when the body is.
                return final && Then(Stage.Done);

            default:
                return false;
        }
    }

    private bool Then(Stage stage)
    {
        _stage = stage;
        return true;
    }

    /// <summary>A property of the page: its name and, unless it opens the collection, its whole value.</summary>
    private bool PageProperty(ref Utf8JsonReader reader)
    {
        var property = AbiquoJsonValues.Match(ref reader, PageNames);
        var (isCollection, isLinks) = (property == 1, property == 2);
        if (!reader.Read())
        {
            return false;
        }

        if (isCollection)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return true;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"the page's collection is {reader.TokenType} instead of an array");
            }

            if (_collectionSeen)
            {
                // The serializer kept the last; the VMs of the first are already read, so neither can be trusted.
                throw new JsonException("the page has two collections");
            }

            _collectionSeen = true;
            return Then(Stage.Collection);
        }

        if (!isLinks)
        {
            return reader.TrySkip();
        }

        var whole = reader;
        if (!whole.TrySkip())
        {
            return false;
        }

        // All of it is at hand, which the serializer needs of a reader given partial data.
        _links = JsonSerializer.Deserialize(ref reader, AbiquoJsonContext.Default.ListAbiquoLinkDto);
        return true;
    }

    /// <summary>
    /// Reads the VM object the reader is at; false when the data ends first. Parsed in one pass as it is read: checking
    /// first that all of it is at hand (<see cref="Utf8JsonReader.TrySkip"/>) scanned every VM twice.
    /// </summary>
    private bool TryReadVm(ref Utf8JsonReader reader, out AbiquoVirtualMachine vm)
    {
        vm = null!;
        int? id = null;
        var port = 0;
        string? name = null, label = null, state = null, ip = null, password = null;
        AbiquoVmLinks links = default;
        while (true)
        {
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            var property = PropertyOf(ref reader);
            if (!reader.Read())
            {
                return false;
            }

            switch (property)
            {
                case VmProperty.Id:
                    id = AbiquoJsonValues.Int32(ref reader, "a VM's id");
                    break;
                case VmProperty.Name:
                    name = AbiquoJsonValues.String(ref reader, "a VM's name");
                    break;
                case VmProperty.Label:
                    label = AbiquoJsonValues.String(ref reader, "a VM's label");
                    break;
                case VmProperty.State:
                    state = AbiquoJsonValues.SharedString(ref reader, "a VM's state");
                    break;
                case VmProperty.VdrpIP:
                    // Not a shared string: a cloud whose VMs' addresses are all different would fill the shared table.
                    ip = AbiquoJsonValues.String(ref reader, "a VM's vdrpIP");
                    break;
                case VmProperty.VdrpPort:
                    port = AbiquoJsonValues.Int32(ref reader, "a VM's vdrpPort") ?? 0;
                    break;
                case VmProperty.Password:
                    password = AbiquoJsonValues.String(ref reader, "a VM's password");
                    break;
                case VmProperty.Links:
                    if (!AbiquoVmLinksReader.TryRead(ref reader, wantEnterprise: _enterprise is null, out links))
                    {
                        return false;
                    }

                    break;
                default:
                    if (!reader.TrySkip())
                    {
                        return false;
                    }

                    break;
            }
        }

        vm = new AbiquoVirtualMachine(id, name, label, state, ip, port, string.IsNullOrEmpty(password) ? null : password,
            _enterprise ?? links.Enterprise, links.Machine);
        return true;
    }

    /// <summary>The page's properties that are read: its collection and its links.</summary>
    private static readonly string[] PageNames = ["collection", "links"];

    /// <summary>A VM's properties that are read, in <see cref="VmProperty"/>'s order.</summary>
    private static readonly string[] VmNames = ["id", "name", "label", "state", "vdrpIP", "vdrpPort", "password", "links"];

    private static VmProperty PropertyOf(ref Utf8JsonReader reader) => (VmProperty)AbiquoJsonValues.Match(ref reader, VmNames);

    private enum Stage
    {
        Start,
        Page,
        Collection,
        End,
        Done,
    }

    /// <summary>In <see cref="VmNames"/>'s order after Other, as <see cref="AbiquoJsonValues.Match"/> numbers them.</summary>
    private enum VmProperty
    {
        Other,
        Id,
        Name,
        Label,
        State,
        VdrpIP,
        VdrpPort,
        Password,
        Links,
    }
}
