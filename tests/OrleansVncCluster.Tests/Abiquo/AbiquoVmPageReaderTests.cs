using System.Text;
using System.Text.Json;
using OrleansVncCluster.Relay.Abiquo;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>
/// The reader of a page of VMs (Abiquo/AbiquoVmPageReader.cs): it parses the body as it streams in, a whole VM at a time,
/// so where the body's reads happen to end must never change what it gives, and malformed pages are malformed JSON.
/// </summary>
public sealed class AbiquoVmPageReaderTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Every shape the reader handles in one page: escapes, unknown values of every kind, odd spacing.</summary>
    private static readonly string Page = """
        {"totalSize": 3, "unknown": {"collection": [{"id": 99}], "links": [1, [2], {"rel": "next"}]},
         "collection": [
          {"links": [{"rel": "machine", "title": "kvm-01", "href": "http://a/m/1"}, {"rel": "enterprise", "title": "Acme"}],
           "id": 1, "name": "ABQ_1", "label": "web \"front\" \u00e9", "uuid": "u-1", "state": "ON", "vdrpIP": "10.0.0.1",
           "vdrpPort": 5901, "password": "pw1", "cpu": 2, "nested": {"a": [1, 2, {"b": null}]}, "flag": true},
          {"ID": "2", "Name": "ABQ_2", "STATE": "OFF", "vdrpip": "10.0.0.1", "VdrpPort": "5902", "password": "",
           "links": [{"rel": "machine", "title": "kvm-01"}]},
          {"id": 3, "name": "first", "name": "ABQ_3", "st\u0061te": "NOT_ALLOCATED", "vdrpPort": 0, "label": null, "password": null}
         ],
         "links": [{"rel": "next", "href": "http://a/next"}]}
        """;

    [Fact]
    public async Task APage_GivesEveryVmAsTheSerializerOptionsSaid()
    {
        var page = await ReadAsync(Page, chunk: int.MaxValue, enterprise: null);

        Assert.Equal(
            [
                new AbiquoVirtualMachine(1, "ABQ_1", "web \"front\" é", "ON", "10.0.0.1", 5901, "pw1", "Acme", "kvm-01"),
                new AbiquoVirtualMachine(2, "ABQ_2", null, "OFF", "10.0.0.1", 5902, null, null, "kvm-01"),
                new AbiquoVirtualMachine(3, "ABQ_3", null, "NOT_ALLOCATED", null, 0, null, null, null),
            ],
            page.Collection);
        Assert.Equal("http://a/next", Assert.Single(page.Links!).Href);
    }

    [Fact]
    public async Task TheListedEnterprise_NamesEveryVm()
    {
        var page = await ReadAsync(Page, chunk: int.MaxValue, enterprise: "Listed");

        Assert.All(page.Collection!, vm => Assert.Equal("Listed", vm.Enterprise));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(333)]
    public async Task WhereTheBodysReadsEnd_ChangesNothing(int chunk)
    {
        var whole = await ReadAsync(Page, int.MaxValue, null);

        var trickled = await ReadAsync(Page, chunk, null);

        Assert.Equal(whole.Collection, trickled.Collection);
        Assert.Equal(whole.Links!.Select(l => l.Href), trickled.Links!.Select(l => l.Href));
    }

    [Fact]
    public async Task AVmBiggerThanTheFirstBuffer_IsReadWhole()
    {
        var label = new string('x', 300_000);
        var json = $$"""{"collection": [{"id": 1, "label": "{{label}}", "vdrpIP": "10.0.0.2", "vdrpPort": 5900}, {"id": 2}]}""";

        var page = await ReadAsync(json, 4096, null);

        Assert.Equal(label, page.Collection![0].Label);
        Assert.Equal([1, 2], page.Collection.Select(vm => vm.Id));
    }

    [Fact]
    public async Task AVmOverTheLimit_IsMalformedJson_BeforeItIsAllRead()
    {
        var label = new string('x', AbiquoVmPageReader.MaxValueBytes + 1);
        var stream = new CountingStream(Encoding.UTF8.GetBytes($$"""{"collection": [{"id": 1, "label": "{{label}}"}, {"id": 2}]}"""), 65_536);

        var failure = await Assert.ThrowsAnyAsync<JsonException>(() => AbiquoVmPageReader.ReadAsync(stream, null, Cancel));

        Assert.Contains("over 4 MiB", failure.Message, StringComparison.Ordinal);
        Assert.True(stream.BytesRead <= AbiquoVmPageReader.MaxValueBytes + 65_536, $"read {stream.BytesRead} bytes of a page it could not use");
    }

    [Fact]
    public async Task APageCutAnywhere_IsMalformedJson()
    {
        for (var length = 0; length < Page.Length; length++)
        {
            var cut = Page[..length];
            await Assert.ThrowsAnyAsync<JsonException>(() => ReadAsync(cut, 5, null));
        }
    }

    [Theory]
    [InlineData("""{"collection": [{"id": 1}]} x""")]
    [InlineData("""{"collection": [{"id": 1}]} {}""")]
    [InlineData("""{"collection": [{"id": 1}], "collection": [{"id": 2}]}""")]
    [InlineData("""{"collection": {"id": 1}}""")]
    [InlineData("""{"collection": [1]}""")]
    [InlineData("""{"collection": [null]}""")]
    [InlineData("""{"collection": [{"id": 1.5}]}""")]
    [InlineData("""{"collection": [{"id": "one"}]}""")]
    [InlineData("""{"collection": [{"vdrpPort": 99999999999}]}""")]
    [InlineData("""{"collection": [{"vdrpPort": true}]}""")]
    [InlineData("""{"collection": [{"name": 5}]}""")]
    [InlineData("""{"collection": [{"vdrpIP": ["10.0.0.1"]}]}""")]
    [InlineData("""{"links": {"rel": "next"}, "collection": []}""")]
    [InlineData("""[{"id": 1}]""")]
    [InlineData("""{"collection": [{"id": 1},]}""")]
    public async Task MalformedPages_AreMalformedJson(string json)
    {
        await Assert.ThrowsAnyAsync<JsonException>(() => ReadAsync(json, 3, null));
    }

    [Fact]
    public async Task TextThatIsNotUtf8_IsMalformedJson()
    {
        byte[] json = [.. """{"collection": [{"name": "ABQ_"""u8, 0xFF, .. "\"}]}"u8];

        await Assert.ThrowsAnyAsync<JsonException>(() => AbiquoVmPageReader.ReadAsync(new MemoryStream(json), null, Cancel));
    }

    [Theory]
    [InlineData("null", null)]
    [InlineData(" {} ", 0)]
    [InlineData("""{"collection": null, "links": null}""", 0)]
    [InlineData("""{"collection": [], "totalSize": 0}""", 0)]
    public async Task EmptyPages_HaveNoVms(string json, int? vms)
    {
        var page = await AbiquoVmPageReader.ReadAsync(new CountingStream(Encoding.UTF8.GetBytes(json), 2), null, Cancel);

        Assert.Equal(vms, page is null ? null : page.Collection!.Count);
    }

    private static async Task<AbiquoCollectionDto<AbiquoVirtualMachine>> ReadAsync(string json, int chunk, string? enterprise) =>
        await AbiquoVmPageReader.ReadAsync(new CountingStream(Encoding.UTF8.GetBytes(json), chunk), enterprise, Cancel)
        ?? throw new InvalidOperationException("a page read as null");

    /// <summary>A body that arrives at most <paramref name="chunk"/> bytes a read, counting what was read.</summary>
    private sealed class CountingStream(byte[] body, int chunk) : MemoryStream(body)
    {
        public long BytesRead { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = base.Read(buffer.Span[..Math.Min(buffer.Length, chunk)]);
            BytesRead += read;
            return ValueTask.FromResult(read);
        }
    }
}
