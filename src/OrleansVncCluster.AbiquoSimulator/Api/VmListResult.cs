using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.AbiquoSimulator.Api;

/// <summary>
/// A list of VMs, written with <see cref="Utf8JsonWriter"/> as it is sent: byte for byte what serializing a
/// <see cref="CollectionJson{T}"/> of <see cref="VirtualMachineJson"/> gives (the records stay the contract, and
/// <c>SimulatorWireTests</c> holds this writer to them).
/// </summary>
/// <remarks>
/// The bench runs the simulator on the node's machine, where a real Abiquo never is. Built as records, three links with
/// formatted addresses and the VM's name for every VM, one read of a 1,000,000-VM inventory took 6-10 s of the
/// simulator's CPU on this 2-core machine: CPU the node's sync and the bench's sessions went without, so the sync
/// figures measured the simulator as much as the node. Written here, each address is formatted into one reused buffer.
/// </remarks>
/// <param name="page">The VMs.</param>
/// <param name="totalSize">The list's <c>totalSize</c>, when it has one.</param>
/// <param name="links">Its paging links.</param>
/// <param name="call">The request: the media type's version and the base URL of the hrefs.</param>
/// <param name="keep">Given the whole document once it is sent (<see cref="VmPageCache"/>); null: nothing is kept.</param>
internal sealed class VmListResult(Page<VmView> page, int? totalSize, IReadOnlyList<LinkJson> links, AbiquoCall call, Action<byte[]>? keep = null) : IResult
{
    /// <summary>Bytes gathered before they are handed to the response body.</summary>
    private const int FlushAt = 64 * 1024;

    private static readonly JavaScriptEncoder Encoder = WireJsonContext.Relaxed.Options.Encoder!;

    private static readonly JsonEncodedText Href = Encode("href");
    private static readonly JsonEncodedText Rel = Encode("rel");
    private static readonly JsonEncodedText Type = Encode("type");
    private static readonly JsonEncodedText Title = Encode("title");
    private static readonly JsonEncodedText MachineRel = Encode("machine");
    private static readonly JsonEncodedText MachineType = Encode(MediaTypes.Plain("machine"));
    private static readonly JsonEncodedText EnterpriseRel = Encode("enterprise");
    private static readonly JsonEncodedText EnterpriseType = Encode(MediaTypes.Plain("enterprise"));
    private static readonly JsonEncodedText EditRel = Encode("edit");
    private static readonly JsonEncodedText VmType = Encode(MediaTypes.Plain("virtualmachine"));

    /// <inheritdoc />
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        StartOk(httpContext, call);
        var body = httpContext.Response.Body;
        using var copy = keep is null ? null : new MemoryStream();
        var cancel = httpContext.RequestAborted;
        var buffer = new ArrayBufferWriter<byte>(FlushAt + 8 * 1024);
        var text = new ArrayBufferWriter<byte>(256);
        await using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Encoder });
        json.WriteStartObject();
        if (totalSize is { } total)
        {
            json.WriteNumber("totalSize", total);
        }

        json.WriteStartArray("links");
        foreach (var link in links)
        {
            // A page has at most four of these: the serializer writes them, as it did every link before.
            JsonSerializer.Serialize(json, link, WireJsonContext.Relaxed.LinkJson);
        }

        json.WriteEndArray();
        json.WriteStartArray("collection");
        foreach (var view in page.Items)
        {
            WriteVm(json, text, view, call.BaseUrl);
            if (json.BytesPending + buffer.WrittenCount >= FlushAt)
            {
                await FlushAsync(json, buffer, body, copy, cancel);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await FlushAsync(json, buffer, body, copy, cancel);
        if (copy is not null)
        {
            keep!(copy.ToArray());
        }
    }

    /// <summary>A document kept by <see cref="VmPageCache"/>, sent in pieces of the size the writer flushes at.</summary>
    internal sealed class Kept(byte[] document, AbiquoCall call) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            StartOk(httpContext, call);
            for (var at = 0; at < document.Length; at += FlushAt)
            {
                await httpContext.Response.Body.WriteAsync(document.AsMemory(at, Math.Min(FlushAt, document.Length - at)), httpContext.RequestAborted);
            }
        }
    }

    /// <summary>Pre-encoded with the serializer's encoder, which leaves '+' (in every media type) as it is.</summary>
    private static JsonEncodedText Encode(string text) => JsonEncodedText.Encode(text, Encoder);

    /// <summary>A 200 with the list's media type, in the version the request asked for.</summary>
    private static void StartOk(HttpContext httpContext, AbiquoCall call)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = MediaTypes.For("virtualmachines", call.Version);
    }

    /// <summary>Sends what is gathered, and adds it to <paramref name="copy"/> when the document is being kept.</summary>
    private static async ValueTask FlushAsync(Utf8JsonWriter json, ArrayBufferWriter<byte> buffer, Stream body, MemoryStream? copy, CancellationToken cancel)
    {
        json.Flush();
        copy?.Write(buffer.WrittenSpan);
        await body.WriteAsync(buffer.WrittenMemory, cancel);
        buffer.ResetWrittenCount();
    }

    /// <summary>One VM, in <see cref="VirtualMachineJson"/>'s order, leaving out what it leaves out when null.</summary>
    private static void WriteVm(Utf8JsonWriter json, ArrayBufferWriter<byte> text, VmView view, string baseUrl)
    {
        var vm = view.Vm;
        json.WriteStartObject();
        json.WriteStartArray("links");
        if (view.Hypervisor is { } h)
        {
            WriteLink(json, Format(text, $"{baseUrl}/admin/datacenters/{h.DatacenterId}/racks/{h.RackId}/machines/{h.Id}"), MachineRel, MachineType, h.Name);
        }

        WriteLink(json, Format(text, $"{baseUrl}/admin/enterprises/{view.Enterprise.Id}"), EnterpriseRel, EnterpriseType, view.Enterprise.Name);
        WriteLink(json, Format(text,
            $"{baseUrl}/cloud/virtualdatacenters/{vm.VirtualDatacenterId}/virtualappliances/{vm.VirtualApplianceId}/virtualmachines/{vm.Id}"),
            EditRel, VmType, null);
        json.WriteEndArray();
        json.WriteNumber("id", vm.Id);
        json.WriteString("name", Format(text, $"{SimVm.NamePrefix}{vm.Uuid}"));
        if (vm.Label is not null)
        {
            json.WriteString("label", vm.Label);
        }

        json.WriteString("uuid", vm.Uuid);
        json.WriteString("state", vm.State.ToWire());
        json.WriteNumber("idState", (int)vm.State);
        if (vm.VdrpIP is not null)
        {
            json.WriteString("vdrpIP", vm.VdrpIP);
        }

        json.WriteNumber("vdrpPort", vm.VdrpPort);
        json.WriteBoolean("vdrpEnabled", vm.VdrpPort > 0);
        if (vm.Password is not null)
        {
            json.WriteString("password", vm.Password);
        }

        json.WriteString("type", "MANAGED");
        json.WriteNumber("cpu", vm.Cpu);
        json.WriteNumber("ram", vm.Ram);
        json.WriteNumber("highDisponibility", 0);
        json.WriteEndObject();
    }

    private static void WriteLink(Utf8JsonWriter json, ReadOnlySpan<byte> href, JsonEncodedText rel, JsonEncodedText type, string? title)
    {
        json.WriteStartObject();
        json.WriteString(Href, href);
        json.WriteString(Rel, rel);
        json.WriteString(Type, type);
        if (title is not null)
        {
            json.WriteString(Title, title);
        }

        json.WriteEndObject();
    }

    /// <summary>Formats <paramref name="value"/> as UTF-8 into <paramref name="text"/>, reused for every address; valid
    /// until the next call.</summary>
    private static ReadOnlySpan<byte> Format(ArrayBufferWriter<byte> text, [InterpolatedStringHandlerArgument("text")] ref TextHandler value) =>
        value.Written;

    /// <summary>Formats an interpolated string as UTF-8 into a reused buffer, growing it when a value does not fit.</summary>
    [InterpolatedStringHandler]
    private ref struct TextHandler
    {
        private readonly ArrayBufferWriter<byte> _text;

        public TextHandler(int literalLength, int formattedCount, ArrayBufferWriter<byte> text)
        {
            _text = text;
            _text.ResetWrittenCount();
        }

        public readonly ReadOnlySpan<byte> Written => _text.WrittenSpan;

        public readonly void AppendLiteral(string value) => AppendFormatted(value);

        public readonly void AppendFormatted(string? value) => AppendFormatted(value.AsSpan());

        public readonly void AppendFormatted(ReadOnlySpan<char> value)
        {
            var span = _text.GetSpan(value.Length * 3);
            Utf8.FromUtf16(value, span, out _, out var written, replaceInvalidSequences: true);
            _text.Advance(written);
        }

        public readonly void AppendFormatted<T>(T value)
            where T : IUtf8SpanFormattable
        {
            var size = 64;
            int written;
            while (!value.TryFormat(_text.GetSpan(size), out written, default, CultureInfo.InvariantCulture))
            {
                size *= 2;
            }

            _text.Advance(written);
        }
    }
}
