using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OrleansVncCluster.AbiquoSimulator.Api;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>
/// The simulator writes its VM lists by hand (<see cref="VmListResult"/>) for speed; the records in Wire.cs stay the
/// contract. These tests hold the writer to what the serializer makes of the records, byte for byte, so the client's
/// tests and the bench read the same documents as before.
/// </summary>
public sealed class SimulatorWireTests
{
    /// <summary>Labels, passwords and names a Java server sends as they are or escapes: quotes, '+', markup, controls, non-ASCII.</summary>
    private static readonly string[] OddTexts =
    [
        "plain", "with \"quotes\" and \\backslash", "a+b=c&d<e>f'g", "<script>alert(1)</script>", "tab\there\nnewline\u0001",
        "ñandú café", "中文标签", "emoji 🖥️ console", "", " ", "\u2028line separator\u2029", "\u007f\u0080",
    ];

    [Theory]
    [InlineData("http://127.0.0.1:8780/api")]
    [InlineData("https://abiquo.example.com:443/api")]
    [InlineData("https://nube.ejemplo/ñ/api")]
    public async Task AnEnterprisesVmList_IsWhatTheSerializerMakesOfTheRecords(string baseUrl)
    {
        var world = OddWorld();
        var call = new AbiquoCall("admin", IsAdmin: true, "3.10", baseUrl);
        foreach (var enterprise in world.Enterprises(0, null).Items)
        {
            var page = world.Vms(enterprise.Id, 0, null)!;
            await AssertSameBytes(page, null, [], call);
        }
    }

    [Fact]
    public async Task AListWithItsSizeAndPagingLinks_IsWhatTheSerializerMakesOfTheRecords()
    {
        var world = OddWorld();
        var call = new AbiquoCall("admin", IsAdmin: true, "3.4", "http://127.0.0.1:8780/api");
        var links = new List<LinkJson>
        {
            new("http://127.0.0.1:8780/api/cloud/virtualmachines?startwith=0&limit=25", "first", MediaTypes.Plain("virtualmachines")),
            new("http://127.0.0.1:8780/api/cloud/virtualmachines?startwith=25&limit=25", "next", MediaTypes.Plain("virtualmachines"), "a \"title\" ñ"),
            new("http://127.0.0.1:8780/api/x", "last"),
        };

        foreach (var (start, count) in new[] { (0, (int?)25), (25, 25), (0, null), (5_000, 25) })
        {
            var page = world.Vms(null, start, count)!;
            await AssertSameBytes(page, page.Total, links, call);
        }
    }

    [Fact]
    public async Task ALongList_IsSentInPiecesAsItIsWritten()
    {
        var world = new SimWorld(WorldGenerator.Generate(new GenerationSettings { Seed = 9, Vms = 3_000, Enterprises = 1 }));
        var page = world.Vms(null, 0, null)!;
        var body = new CountingStream();
        var context = new DefaultHttpContext { Response = { Body = body } };

        await new VmListResult(page, page.Total, [], new AbiquoCall("admin", true, "3.10", "http://127.0.0.1/api")).ExecuteAsync(context);

        // About 770 bytes a VM: a 2.3 MB document must reach the body in many writes, not gathered whole first.
        Assert.True(body.Length > 2_000_000, $"{body.Length} bytes");
        Assert.True(body.Writes >= 20, $"{body.Writes} writes of {body.Length} bytes");
        Assert.True(body.LargestWrite <= 128 * 1024, $"largest write {body.LargestWrite} bytes");
    }

    private static async Task AssertSameBytes(Page<VmView> page, int? total, IReadOnlyList<LinkJson> links, AbiquoCall call)
    {
        var records = new CollectionJson<VirtualMachineJson>(total, links, page.Items.Select(view => VmJson(view, call.BaseUrl)).ToArray());
        var expected = JsonSerializer.SerializeToUtf8Bytes(records, WireJsonContext.Relaxed.CollectionJsonVirtualMachineJson);
        using var body = new MemoryStream();
        var context = new DefaultHttpContext { Response = { Body = body } };

        await new VmListResult(page, total, links, call).ExecuteAsync(context);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(MediaTypes.For("virtualmachines", call.Version), context.Response.ContentType);
        var actual = body.ToArray();
        if (!expected.AsSpan().SequenceEqual(actual))
        {
            var at = expected.AsSpan().CommonPrefixLength(actual);
            Assert.Fail($"differs at byte {at} of {expected.Length}: expected ...{Around(expected, at)}... got ...{Around(actual, at)}...");
        }
    }

    /// <summary>One VM as the records describe it, as the simulator built it before it had its own writer: the
    /// reference <see cref="VmListResult"/> is compared with.</summary>
    private static VirtualMachineJson VmJson(VmView view, string baseUrl)
    {
        var vm = view.Vm;
        var links = new List<LinkJson>(3);
        if (view.Hypervisor is { } h)
        {
            links.Add(new LinkJson($"{baseUrl}/admin/datacenters/{h.DatacenterId}/racks/{h.RackId}/machines/{h.Id}", "machine", MediaTypes.Plain("machine"), h.Name));
        }

        links.Add(new LinkJson($"{baseUrl}/admin/enterprises/{view.Enterprise.Id}", "enterprise", MediaTypes.Plain("enterprise"), view.Enterprise.Name));
        links.Add(new LinkJson(
            $"{baseUrl}/cloud/virtualdatacenters/{vm.VirtualDatacenterId}/virtualappliances/{vm.VirtualApplianceId}/virtualmachines/{vm.Id}",
            "edit", MediaTypes.Plain("virtualmachine")));
        return new VirtualMachineJson
        {
            Links = links,
            Id = vm.Id,
            Name = vm.Name,
            Label = vm.Label,
            Uuid = vm.Uuid.ToString(),
            State = vm.State.ToWire(),
            IdState = (int)vm.State,
            VdrpIP = vm.VdrpIP,
            VdrpPort = vm.VdrpPort,
            VdrpEnabled = vm.VdrpPort > 0,
            Password = vm.Password,
            Cpu = vm.Cpu,
            Ram = vm.Ram,
        };
    }

    private static string Around(byte[] bytes, int at) =>
        Encoding.UTF8.GetString(bytes, Math.Max(0, at - 60), Math.Min(bytes.Length, at + 60) - Math.Max(0, at - 60));

    /// <summary>A generated world with VMs added whose texts need escaping, on odd hypervisors, undeployed and without passwords.</summary>
    private static SimWorld OddWorld()
    {
        var world = new SimWorld(WorldGenerator.Generate(new GenerationSettings { Seed = 5, Vms = 400, Enterprises = 4 }));
        var extra = world.AddEnterprise("tenant \"ñ\" <&>");
        for (var i = 0; i < OddTexts.Length; i++)
        {
            var text = OddTexts[i];
            world.AddVm(new NewVm { EnterpriseId = extra.Id, Label = text, Password = text.Length <= 8 ? text : null, VdrpIP = $"10.1.0.{i + 1}", VdrpPort = 5900, Hypervisor = $"kvm {text}" });
            world.AddVm(new NewVm { EnterpriseId = extra.Id, Label = text, State = "NOT_ALLOCATED" });
            world.AddVm(new NewVm { EnterpriseId = extra.Id, VdrpIP = "10.0.0." + (i + 1), VdrpPort = 5900 + i });
        }

        return world;
    }

    private sealed class CountingStream : Stream
    {
        public int Writes { get; private set; }

        public long LargestWrite { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        private long _length;

        public override void Write(byte[] buffer, int offset, int count) => Count(count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count(buffer.Length);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Count(int count)
        {
            Writes++;
            _length += count;
            LargestWrite = Math.Max(LargestWrite, count);
        }
    }
}
