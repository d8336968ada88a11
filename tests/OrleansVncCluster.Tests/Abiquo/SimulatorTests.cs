using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrleansVncCluster.AbiquoSimulator;
using OrleansVncCluster.AbiquoSimulator.Admin;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.Tests.Abiquo;

/// <summary>The simulator keeps the documented contract, so the client tests test the contract.</summary>
public sealed class SimulatorTests : IClassFixture<SimulatorFixture>
{
    private readonly SimulatorFixture _fixture;

    public SimulatorTests(SimulatorFixture fixture)
    {
        _fixture = fixture;
        fixture.Reset();
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoCredentials_Answers401WithBasicChallengeAndHtml()
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{_fixture.Host.ApiUrl}/admin/enterprises", Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic realm=\"Abiquo API\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Enterprises_ArePagedWithAbsoluteFirstPreviousNextLastLinks()
    {
        using var response = await Get("/admin/enterprises?startwith=2&limit=2", "application/vnd.abiquo.enterprises+json; version=3.10");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));

        Assert.Equal("application/vnd.abiquo.enterprises+json; version=3.10", response.Content.Headers.ContentType?.ToString());
        var links = document.RootElement.GetProperty("links").EnumerateArray()
            .ToDictionary(l => l.GetProperty("rel").GetString()!, l => l.GetProperty("href").GetString()!);
        var api = _fixture.Host.ApiUrl;
        Assert.Equal($"{api}/admin/enterprises?startwith=0&limit=2", links["first"]);
        Assert.Equal($"{api}/admin/enterprises?startwith=0&limit=2", links["previous"]);
        Assert.Equal($"{api}/admin/enterprises?startwith=4&limit=2", links["next"]);
        Assert.Equal($"{api}/admin/enterprises?startwith=4&limit=2", links["last"]);
        Assert.Equal(5, document.RootElement.GetProperty("totalSize").GetInt32());
        Assert.Equal([3, 4], document.RootElement.GetProperty("collection").EnumerateArray().Select(e => e.GetProperty("id").GetInt32()));
    }

    [Fact]
    public async Task LimitZero_ReturnsEverything()
    {
        using var response = await Get("/cloud/virtualmachines?limit=0");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));

        Assert.Equal(_fixture.AllVms().Count, document.RootElement.GetProperty("collection").GetArrayLength());
        Assert.DoesNotContain(document.RootElement.GetProperty("links").EnumerateArray(), l => l.GetProperty("rel").GetString() == "next");
    }

    [Fact]
    public async Task CloudVirtualMachines_DefaultsToPagesOf25()
    {
        using var response = await Get("/cloud/virtualmachines");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));

        Assert.Equal(25, document.RootElement.GetProperty("collection").GetArrayLength());
        Assert.Contains(document.RootElement.GetProperty("links").EnumerateArray(), l => l.GetProperty("rel").GetString() == "next");
    }

    [Fact]
    public async Task UndeployedVm_HasPortZeroAndNoAddress()
    {
        var undeployed = _fixture.AllVms().First(v => v.Vm.State == VmState.NotAllocated);
        using var response = await Get($"/admin/enterprises/{undeployed.Enterprise.Id}/action/virtualmachines");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel));

        var vm = document.RootElement.GetProperty("collection").EnumerateArray().Single(v => v.GetProperty("id").GetInt32() == undeployed.Vm.Id);
        Assert.Equal(0, vm.GetProperty("vdrpPort").GetInt32());
        Assert.False(vm.TryGetProperty("vdrpIP", out _));
        Assert.False(document.RootElement.TryGetProperty("totalSize", out _));
    }

    [Theory]
    [InlineData("application/vnd.abiquo.enterprises+json; version=4.0")]
    [InlineData("application/vnd.abiquo.enterprises+json; version=banana")]
    [InlineData("application/vnd.abiquo.enterprises+xml")]
    [InlineData("application/vnd.abiquo.virtualmachines+json")]
    public async Task UnservableAccept_Answers406(string accept)
    {
        using var response = await Get("/admin/enterprises", accept);

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
    }

    [Fact]
    public async Task MissingEnterprise_Answers404En0()
    {
        using var response = await Get("/admin/enterprises/999/action/virtualmachines");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/vnd.abiquo.errors+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"EN-0\"", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminApi_AddsMovesAndRemovesVms()
    {
        using var http = AdminClient();

        using var added = await http.PostAsJsonAsync("/_sim/vms", new { enterpriseId = 1, vdrpIP = "10.99.0.1", vdrpPort = 5999, label = "added" }, Cancel);
        var vm = await added.Content.ReadFromJsonAsync<AdminVm>(Cancel);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(("10.99.0.1", 5999, "ON"), (vm!.VdrpIP, vm.VdrpPort, vm.State));

        using var moved = await http.PostAsJsonAsync($"/_sim/vms/{vm.Id}/move", new { }, Cancel);
        var after = await moved.Content.ReadFromJsonAsync<AdminVm>(Cancel);
        Assert.NotEqual((vm.VdrpIP, vm.VdrpPort), (after!.VdrpIP, after.VdrpPort));

        using var removed = await http.DeleteAsync($"/_sim/vms/{vm.Id}", Cancel);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Null(_fixture.Simulator.World.Vm(vm.Id));
    }

    [Fact]
    public async Task AdminApi_RenumbersTheConsoleOfEveryNthDeployedVm_ToAnAddressNoVmHad()
    {
        var before = _fixture.AllVms().ToDictionary(v => v.Vm.Id, v => v.Vm);
        var expected = before.Values.Where(v => v.VdrpPort > 0).OrderBy(v => v.Id).Where((_, i) => (i + 1) % 3 == 0).Select(v => v.Id).ToHashSet();
        using var http = AdminClient();

        using var response = await http.PostAsJsonAsync("/_sim/vms/renumber-consoles", new { every = 3 }, Cancel);
        var answer = await response.Content.ReadFromJsonAsync<RenumberedConsoles>(Cancel);

        var after = _fixture.AllVms().ToDictionary(v => v.Vm.Id, v => v.Vm);
        var changed = after.Values.Where(v => v != before[v.Id]).Select(v => v.Id).ToHashSet();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(expected);
        Assert.Equal(expected, changed);
        Assert.Equal(expected.Count, answer!.Moved);
        var oldAddresses = before.Values.Select(v => (v.VdrpIP, v.VdrpPort)).ToHashSet();
        Assert.All(expected, id =>
        {
            Assert.Equal((before[id].VdrpIP, before[id].HypervisorId), (after[id].VdrpIP, after[id].HypervisorId));
            Assert.DoesNotContain((after[id].VdrpIP, after[id].VdrpPort), oldAddresses);
        });
    }

    [Fact]
    public async Task AnEnterprisesVmList_ReadAgain_IsSentAsKept_UntilTheWorldChanges()
    {
        var enterprise = _fixture.Simulator.World.Enterprises(0, 1).Items[0].Id;
        var vm = _fixture.AllVms().First(v => v.Enterprise.Id == enterprise).Vm;
        var path = $"/admin/enterprises/{enterprise}/action/virtualmachines?limit=0";
        var served = _fixture.Simulator.Pages.Served;

        var first = await Body(path);
        var again = await Body(path);
        var servedAgain = _fixture.Simulator.Pages.Served;
        _fixture.Simulator.World.ChangeVm(vm.Id, new VmChange { Label = "relabelled-after-the-first-read" });
        var changed = await Body(path);
        var viaSecondListener = await Body(path, _fixture.Host.Addresses[1] + "/api");

        Assert.Equal(first, again);
        Assert.Equal(served + 1, servedAgain);
        Assert.DoesNotContain("relabelled-after-the-first-read", first, StringComparison.Ordinal);
        Assert.Contains("relabelled-after-the-first-read", changed, StringComparison.Ordinal);
        // The hrefs name the host asked: a list kept for one base URL is not another's.
        Assert.Contains(_fixture.Host.Addresses[1] + "/api/", viaSecondListener, StringComparison.Ordinal);
        Assert.DoesNotContain(_fixture.Host.Addresses[1] + "/api/", changed, StringComparison.Ordinal);
        Assert.Equal(servedAgain, _fixture.Simulator.Pages.Served);
    }

    [Fact]
    public async Task AdminApi_RefusesToRenumberEveryZerothConsole()
    {
        var before = _fixture.AllVms().Select(v => v.Vm).ToList();
        using var http = AdminClient();

        using var response = await http.PostAsJsonAsync("/_sim/vms/renumber-consoles", new { every = 0 }, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, _fixture.AllVms().Select(v => v.Vm));
    }

    [Fact]
    public async Task AdminApi_NeedsTheAdministratorsCredentials()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_fixture.Host.BaseUrl) };
        using var response = await http.GetAsync("/_sim/state", Cancel);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdminApi_InjectsAndClearsFaults()
    {
        using var http = AdminClient();
        using var injected = await http.PostAsJsonAsync("/_sim/faults", new { kind = "Error", status = 500, count = 1 }, Cancel);
        Assert.Equal(HttpStatusCode.OK, injected.StatusCode);

        using (var failed = await Get("/admin/enterprises"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        using var healed = await Get("/admin/enterprises");
        Assert.Equal(HttpStatusCode.OK, healed.StatusCode);
    }

    [Fact]
    public void SameSeed_GivesTheSameWorld_OtherSeedAnother()
    {
        var settings = new GenerationSettings { Seed = 42, Vms = 500, Enterprises = 20 };

        var first = WorldGenerator.Generate(settings);
        var second = WorldGenerator.Generate(settings);
        var other = WorldGenerator.Generate(settings with { Seed = 43 });

        Assert.Equal(first.Vms, second.Vms);
        Assert.Equal(first.Enterprises, second.Enterprises);
        Assert.NotEqual(first.Vms, other.Vms);
    }

    [Fact]
    public void LargeWorld_HasEveryKindOfVmTheSyncMustHandle()
    {
        // 100,000, not MaxVms: a million VMs take too long for a unit test, and nothing here depends on the size.
        var world = WorldGenerator.Generate(new GenerationSettings { Seed = 3, Vms = 100_000, Enterprises = 400 });

        Assert.Equal(100_000, world.Vms.Count);
        Assert.Contains(world.Vms, v => v.State == VmState.On);
        Assert.Contains(world.Vms, v => v.State == VmState.Off && v.VdrpPort > 0);
        Assert.All(world.Vms.Where(v => v.State == VmState.NotAllocated), v => Assert.Equal((null, 0), (v.VdrpIP, v.VdrpPort)));
        Assert.All(world.Vms.Where(v => v.Password is not null), v => Assert.InRange(v.Password!.Length, 1, 8));
        Assert.Contains(world.Vms, v => v.Password is null);
        var perAddress = world.Vms.Where(v => v.VdrpPort > 0).GroupBy(v => v.VdrpIP).Select(g => g.Count());
        Assert.True(perAddress.Max() > 1, "no hypervisor hosts more than one VM");
        var perPair = world.Vms.Where(v => v.VdrpPort > 0).GroupBy(v => (v.VdrpIP, v.VdrpPort)).Select(g => g.Count());
        Assert.True(perPair.Max() > 1, "no IP:port pair is reused");
    }

    [Theory]
    [InlineData("127.0.0.1:5901:secret", "127.0.0.1", 5901, "secret")]
    [InlineData("127.0.0.1:5901", "127.0.0.1", 5901, null)]
    [InlineData("[::1]:5902:pw", "::1", 5902, "pw")]
    public void VncTarget_IsParsed(string text, string host, int port, string? password) =>
        Assert.Equal(new VncTarget(host, port, password), SimulatorCommandLine.ParseTarget(text));

    [Fact]
    public void CommandLine_RefusesAPassword()
    {
        Assert.Null(SimulatorCommandLine.Parse(["--password", "x"], _ => null, out var problem));
        Assert.Contains("--password-file", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_WithoutAPassword_MakesARandomOne_NeverAbiquosFactoryDefault()
    {
        var first = SimulatorCommandLine.Parse([], _ => null, out var problem);
        var second = SimulatorCommandLine.Parse([], _ => null, out _);
        Assert.NotNull(first);
        Assert.True(first.PasswordGenerated, problem);
        Assert.NotEqual("xabiquo", first.Password);
        Assert.Equal(24, first.Password.Length);
        Assert.NotEqual(first.Password, second!.Password);
    }

    [Fact]
    public void CommandLine_TakesThePasswordFromTheEnvironment()
    {
        var settings = SimulatorCommandLine.Parse(["--vms", "10", "--vnc-target", "127.0.0.1:5901"], name => name == SimulatorCommandLine.PasswordVariable ? "from-env" : null, out _);

        Assert.Equal(("from-env", 10), (settings!.Password, settings.World.Vms));
        Assert.Single(settings.VncTargets);
    }

    private async Task<HttpResponseMessage> Get(string path, string accept = "*/*")
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, _fixture.Host.ApiUrl + path);
        request.Headers.Authorization = Basic();
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await http.SendAsync(request, Cancel);
    }

    private async Task<string> Body(string path, string? apiUrl = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, (apiUrl ?? _fixture.Host.ApiUrl) + path);
        request.Headers.Authorization = Basic();
        request.Headers.TryAddWithoutValidation("Accept", "application/vnd.abiquo.virtualmachines+json");
        using var response = await http.SendAsync(request, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.abiquo.virtualmachines+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync(Cancel);
    }

    private HttpClient AdminClient()
    {
        var http = new HttpClient { BaseAddress = new Uri(_fixture.Host.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = Basic();
        return http;
    }

    private static AuthenticationHeaderValue Basic() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{SimulatorFixture.Password}")));
}
